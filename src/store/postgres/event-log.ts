import { TERMINAL, type TaskEvent, type TaskEventType, type TaskSnapshot, type TaskStatus } from '../../domain/task.ts';
import { parseStoredSnapshot } from '../snapshot-codec.ts';
import type { AppendOptions, EventLog } from '../types.ts';
import type { Pg } from './connection.ts';

const ENDED = [...TERMINAL];

/**
 * Events in PostgreSQL. An append is one statement: the task row takes the next id (so ids
 * increase per task whichever process writes) and the latest snapshot, and the event joins the
 * log in the same statement when it is one to replay. Once a task has ended nothing is written.
 */
export class PgEventLog implements EventLog {
  constructor(private readonly db: Pg) {}

  async append(taskId: string, type: TaskEventType, snapshot: TaskSnapshot, opts: AppendOptions): Promise<TaskEvent | null> {
    const json = JSON.stringify(snapshot);
    const { rows } = await this.db.query<{ id: number }>(
      `WITH t AS (
         UPDATE tasks SET last_event_id = GREATEST(last_event_id, $8) + 1, status = $2, snapshot = $3
         WHERE id = $1 AND NOT (status = ANY ($6::text[])) AND ($7::text[] IS NULL OR status = ANY ($7::text[]))
         RETURNING last_event_id
       ), e AS (
         INSERT INTO events (task_id, id, type, snapshot) SELECT $1, last_event_id, $4, $3 FROM t WHERE $5
       )
       SELECT last_event_id AS id FROM t`,
      [taskId, snapshot.status, json, type, opts.record, ENDED, (opts.onlyIf as TaskStatus[] | undefined) ?? null, opts.after ?? 0],
    );
    const id = rows[0]?.id;
    return id === undefined ? null : { id, type, snapshot };
  }

  async terminalEvent(taskId: string): Promise<TaskEvent | null> {
    const { rows } = await this.db.query<{ id: number; type: TaskEventType; snapshot: string }>(
      'SELECT id, type, snapshot FROM events WHERE task_id = $1 AND type = ANY ($2::text[]) ORDER BY id DESC LIMIT 1',
      [taskId, ENDED],
    );
    return rows[0] ? this.toEvent(taskId, rows[0]) : null;
  }

  async eventsAfter(taskId: string, afterId: number, limit: number): Promise<TaskEvent[]> {
    const { rows } = await this.db.query<{ id: number; type: TaskEventType; snapshot: string }>(
      'SELECT id, type, snapshot FROM events WHERE task_id = $1 AND id > $2 ORDER BY id LIMIT $3',
      [taskId, afterId, limit],
    );
    return rows.map((r) => this.toEvent(taskId, r));
  }

  private toEvent(taskId: string, row: { id: number; type: TaskEventType; snapshot: string }): TaskEvent {
    return { id: row.id, type: row.type, snapshot: parseStoredSnapshot({ id: taskId, status: row.type, created_at: '', snapshot: row.snapshot }) };
  }
}
