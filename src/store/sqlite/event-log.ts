import type Database from 'better-sqlite3';
import { TERMINAL, type TaskEvent, type TaskEventType, type TaskSnapshot } from '../../domain/task.ts';
import { parseStoredSnapshot } from '../snapshot-codec.ts';
import type { AppendOptions, EventLog } from '../types.ts';
import { mainWrite, type SqliteDatabase } from './database.ts';

const ENDED = [...TERMINAL].map((s) => `'${s}'`).join(', ');

/** An append waiting for its commit (SqliteEventLog.commit). */
interface PendingAppend {
  advance: Database.Statement;
  taskId: string;
  type: TaskEventType;
  snapshot: TaskSnapshot;
  json: string;
  record: boolean;
  /** AppendOptions.after: the id to go above. */
  after: number;
  done: (id: number | null) => void;
  fail: (err: unknown) => void;
}

/**
 * Events in SQLite. The task row holds the latest snapshot and the last event id; the `events`
 * table keeps the events worth replaying (phase changes, the end). Appends made in one turn of
 * the event loop are committed in one transaction.
 */
export class SqliteEventLog implements EventLog {
  private readonly stmt;
  private readonly advance = new Map<string, Database.Statement>();
  /**
   * Appends waiting for the next commit. Appends made within one turn of the event loop are
   * committed together (one `setImmediate` later), each resolving when its commit has happened:
   * a commit costs ~50 µs of the main thread whatever it holds, and under a flood of POSTs the
   * commits of the events of the tasks running at once took a third of the main thread.
   */
  private waiting: PendingAppend[] = [];
  /** The commit of a group of appends, as one transaction made once (making one costs ~12 µs). */
  private readonly appendTx;

  constructor(private readonly sql: SqliteDatabase) {
    const db = sql.db;
    this.stmt = {
      insert: db.prepare('INSERT OR REPLACE INTO events (task, id, type, created_at, snapshot) VALUES (?, ?, ?, ?, ?)'),
      terminal: db.prepare(`SELECT id, type, snapshot FROM events WHERE task = (SELECT seq FROM tasks WHERE id = ?) AND type IN (${ENDED}) ORDER BY id DESC LIMIT 1`),
      after: db.prepare('SELECT id, type, snapshot FROM events WHERE task = (SELECT seq FROM tasks WHERE id = ?) AND id > ? ORDER BY id LIMIT ?'),
    };
    this.appendTx = db.transaction((group: PendingAppend[]): (number | null)[] => {
      const created = new Date().toISOString();
      return group.map((a) => {
        const row = a.advance.get(a.after, a.snapshot.status, a.json, a.taskId) as { last_event_id: number; seq: number } | undefined;
        if (!row) return null;
        if (a.record) this.stmt.insert.run(row.seq, row.last_event_id, a.type, created, a.json);
        return row.last_event_id;
      });
    });
  }

  /** The statement that moves a task to its next event id, for one set of allowed statuses. */
  private advanceStatement(onlyIf: AppendOptions['onlyIf']): Database.Statement {
    const key = onlyIf ? onlyIf.join(',') : '';
    let st = this.advance.get(key);
    if (!st) {
      const extra = onlyIf ? ` AND status IN (${onlyIf.map((s) => `'${s}'`).join(', ')})` : '';
      st = this.sql.db.prepare(
        `UPDATE tasks SET last_event_id = MAX(last_event_id, ?) + 1, status = ?, snapshot = ? WHERE id = ? AND status NOT IN (${ENDED})${extra} RETURNING last_event_id, seq`,
      );
      this.advance.set(key, st);
    }
    return st;
  }

  async append(taskId: string, type: TaskEventType, snapshot: TaskSnapshot, opts: AppendOptions): Promise<TaskEvent | null> {
    const json = JSON.stringify(snapshot);
    const advance = this.advanceStatement(opts.onlyIf);
    const id = await new Promise<number | null>((done, fail) => {
      if (this.waiting.push({ advance, taskId, type, snapshot, json, record: !!opts.record, after: opts.after ?? 0, done, fail }) === 1) setImmediate(() => void this.commit());
    });
    return id === null ? null : { id, type, snapshot };
  }

  /** Commits the appends waiting, in one transaction; a failure fails each of them (a full disk fails them all alike). */
  private async commit(): Promise<void> {
    const group = this.waiting;
    this.waiting = [];
    let ids: (number | null)[];
    try {
      ids = await mainWrite(() => this.appendTx(group));
    } catch (err) {
      for (const a of group) a.fail(err);
      return;
    }
    group.forEach((a, i) => a.done(ids[i] ?? null));
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
