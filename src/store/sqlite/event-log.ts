import type Database from 'better-sqlite3';
import { TERMINAL, type TaskEvent, type TaskEventType, type TaskSnapshot } from '../../domain/task.ts';
import { parseStoredSnapshot } from '../snapshot-codec.ts';
import type { AppendOptions, EventLog } from '../types.ts';
import { write, type SqliteDatabase } from './database.ts';

const ENDED = [...TERMINAL].map((s) => `'${s}'`).join(', ');

/**
 * Events in SQLite. The task row holds the latest snapshot and the last event id; the `events`
 * table keeps the events worth replaying (phase changes, the end). An append is one transaction.
 */
export class SqliteEventLog implements EventLog {
  private readonly stmt;
  private readonly advance = new Map<string, Database.Statement>();
  /**
   * One append, as one transaction made once: better-sqlite3's transaction() costs ~12 µs to make,
   * and a task appends an event at each phase (a tenth of a POST's main-thread time when many
   * small scans are posted).
   */
  private readonly appendTx;

  constructor(private readonly sql: SqliteDatabase) {
    const db = sql.db;
    this.stmt = {
      insert: db.prepare('INSERT OR REPLACE INTO events (task_id, id, type, created_at, snapshot) VALUES (?, ?, ?, ?, ?)'),
      terminal: db.prepare(`SELECT id, type, snapshot FROM events WHERE task_id = ? AND type IN (${ENDED}) ORDER BY id DESC LIMIT 1`),
      after: db.prepare('SELECT id, type, snapshot FROM events WHERE task_id = ? AND id > ? ORDER BY id LIMIT ?'),
    };
    this.appendTx = db.transaction((advance: Database.Statement, taskId: string, type: TaskEventType, snapshot: TaskSnapshot, json: string, record: boolean): number | null => {
      const row = advance.get(snapshot.status, json, taskId) as { last_event_id: number } | undefined;
      if (!row) return null;
      if (record) this.stmt.insert.run(taskId, row.last_event_id, type, new Date().toISOString(), json);
      return row.last_event_id;
    });
  }

  /** The statement that moves a task to its next event id, for one set of allowed statuses. */
  private advanceStatement(onlyIf: AppendOptions['onlyIf']): Database.Statement {
    const key = onlyIf ? onlyIf.join(',') : '';
    let st = this.advance.get(key);
    if (!st) {
      const extra = onlyIf ? ` AND status IN (${onlyIf.map((s) => `'${s}'`).join(', ')})` : '';
      st = this.sql.db.prepare(
        `UPDATE tasks SET last_event_id = last_event_id + 1, status = ?, snapshot = ? WHERE id = ? AND status NOT IN (${ENDED})${extra} RETURNING last_event_id`,
      );
      this.advance.set(key, st);
    }
    return st;
  }

  async append(taskId: string, type: TaskEventType, snapshot: TaskSnapshot, opts: AppendOptions): Promise<TaskEvent | null> {
    const json = JSON.stringify(snapshot);
    const advance = this.advanceStatement(opts.onlyIf);
    const id = write(() => this.appendTx(advance, taskId, type, snapshot, json, !!opts.record));
    return id === null ? null : { id, type, snapshot };
  }

  async terminalEvent(taskId: string): Promise<TaskEvent | null> {
    const row = this.stmt.terminal.get(taskId) as { id: number; type: TaskEventType; snapshot: string } | undefined;
    return row ? this.toEvent(taskId, row) : null;
  }

  async eventsAfter(taskId: string, afterId: number, limit: number): Promise<TaskEvent[]> {
    return (this.stmt.after.all(taskId, afterId, limit) as { id: number; type: TaskEventType; snapshot: string }[]).map((r) => this.toEvent(taskId, r));
  }

  private toEvent(taskId: string, row: { id: number; type: TaskEventType; snapshot: string }): TaskEvent {
    return { id: row.id, type: row.type, snapshot: parseStoredSnapshot({ id: taskId, status: row.type, created_at: '', snapshot: row.snapshot }) };
  }
}
