import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import { TASK_STATUSES, type ReuseReference, type TaskEvent, type TaskSnapshot, type TaskStatus } from '../../domain/task.ts';
import { parseStoredSnapshot, type SnapshotRow } from '../snapshot-codec.ts';
import type { NewTask, ReferenceQuery, StoredTask, TaskRecord, TaskStore } from '../types.ts';
import { mainWrite, type SqliteDatabase } from './database.ts';
import { rowDrops } from './row-drops.ts';

const DELETE_CHUNK = 5000;

type RecordRow = SnapshotRow & { last_event_id: number; root: string | null; cancel_requested: number; reuse: string };

const toRecord = (r: RecordRow): TaskRecord => ({
  snapshot: parseStoredSnapshot(r),
  last_event_id: r.last_event_id,
  root: r.root ?? '',
  cancel_requested: r.cancel_requested === 1,
  reuse: r.reuse === 'auto' ? 'auto' : 'none',
});

/** Tasks in SQLite: one row each, its latest snapshot as JSON beside the columns queries need. */
export class SqliteTaskStore implements TaskStore {
  private readonly stmt;
  private readonly drops: ReturnType<typeof rowDrops>;
  private seq: number;
  /** insertTask's transaction, made once (making one costs ~12 µs: sqlite/event-log.ts). */
  private readonly insertTx: Database.Transaction<(task: NewTask, first: TaskEvent, json: string, maxQueued: number | undefined) => boolean>;

  constructor(private readonly sql: SqliteDatabase) {
    this.drops = rowDrops(sql.db);
    const db = sql.db;
    const cols = 'id, status, created_at, snapshot, last_event_id, root, cancel_requested, reuse';
    this.stmt = {
      insert: db.prepare('INSERT INTO tasks (id, seq, status, created_at, last_event_id, snapshot, root, reuse, scanner_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      reference: db.prepare(
        `SELECT id, json_extract(snapshot, '$.analysis') AS analysis FROM tasks
         WHERE status = 'completed' AND root = ? AND scanner_version = ? AND id <> ? AND (? = 'header' OR json_extract(snapshot, '$.analysis') = 'full')
         ORDER BY seq DESC LIMIT 1`,
      ),
      insertEvent: db.prepare('INSERT INTO events (task, id, type, created_at, snapshot) VALUES (?, ?, ?, ?, ?)'),
      queued: db.prepare("SELECT COUNT(*) AS n FROM tasks WHERE status = 'queued'"),
      get: db.prepare(`SELECT ${cols} FROM tasks WHERE id = ?`),
      listAll: db.prepare('SELECT id, status, created_at, snapshot FROM tasks ORDER BY seq DESC LIMIT ?'),
      listByStatus: db.prepare('SELECT id, status, created_at, snapshot FROM tasks WHERE status = ? ORDER BY seq DESC LIMIT ?'),
      unfinished: db.prepare(`SELECT ${cols} FROM tasks WHERE status IN ('queued', 'running') ORDER BY seq`),
      counts: db.prepare('SELECT status, COUNT(*) AS n FROM tasks GROUP BY status'),
      // Past every seq ever used, rows of a deleted task included: a seq is never given twice.
      maxSeq: db.prepare(
        'SELECT MAX(COALESCE((SELECT MAX(seq) FROM tasks), 0), COALESCE((SELECT MAX(task) FROM results), 0), COALESCE((SELECT MAX(task) FROM catalog), 0)) AS seq',
      ),
      requestCancel: db.prepare('UPDATE tasks SET cancel_requested = 1 WHERE id = ?'),
      resultsChunk: db.prepare(`SELECT rid FROM results WHERE task = ? LIMIT ${DELETE_CHUNK}`).pluck(),
      catalogChunk: db.prepare(`SELECT rid FROM catalog WHERE task = ? LIMIT ${DELETE_CHUNK}`),
      deleteSpeakers: db.prepare('DELETE FROM speakers WHERE task_id = ?'),
      deleteEvents: db.prepare('DELETE FROM events WHERE task = (SELECT seq FROM tasks WHERE id = ?)'),
      deleteTask: db.prepare('DELETE FROM tasks WHERE id = ?'),
    };
    this.seq = (this.stmt.maxSeq.get() as { seq: number }).seq;
    this.insertTx = db.transaction((task: NewTask, first: TaskEvent, json: string, maxQueued: number | undefined): boolean => {
      const s = task.snapshot;
      if (maxQueued !== undefined && (this.stmt.queued.get() as { n: number }).n >= maxQueued) return false;
      const seq = this.seq + 1;
      this.stmt.insert.run(s.task_id, seq, s.status, s.created_at, first.id, json, task.root, task.reuse, task.scannerVersion);
      this.stmt.insertEvent.run(seq, first.id, first.type, new Date().toISOString(), json);
      this.seq = seq;
      this.sql.rememberSeq(s.task_id, seq);
      return true;
    });
  }

  async insertTask(task: NewTask, first: TaskEvent, maxQueued?: number): Promise<boolean> {
    const s = task.snapshot;
    const json = JSON.stringify(s);
    // IMMEDIATE: it reads (the queue's length) before it writes; a deferred transaction would fail
    // at once with SQLITE_BUSY when a scan thread commits in between (catalog-indexer.ts).
    return mainWrite(() => this.insertTx.immediate(task, first, json, maxQueued));
  }

  async findReference(q: ReferenceQuery): Promise<ReuseReference | null> {
    const r = this.stmt.reference.get(q.root, q.scannerVersion, q.excludeId, q.analysis) as { id: string; analysis: string } | undefined;
    return r ? { taskId: r.id, analysis: r.analysis === 'full' ? 'full' : 'header' } : null;
  }

  async getTask(id: string): Promise<StoredTask | null> {
    const row = this.stmt.get.get(id) as RecordRow | undefined;
    return row ? { snapshot: parseStoredSnapshot(row), last_event_id: row.last_event_id } : null;
  }

  async getRecord(id: string): Promise<TaskRecord | null> {
    const row = this.stmt.get.get(id) as RecordRow | undefined;
    return row ? toRecord(row) : null;
  }

  async listTasks(opts: { status?: TaskStatus | undefined; limit: number }): Promise<TaskSnapshot[]> {
    const rows = (opts.status ? this.stmt.listByStatus.all(opts.status, opts.limit) : this.stmt.listAll.all(opts.limit)) as SnapshotRow[];
    return rows.map(parseStoredSnapshot);
  }

  async unfinishedTasks(): Promise<TaskRecord[]> {
    return (this.stmt.unfinished.all() as RecordRow[]).map(toRecord);
  }

  async countByStatus(): Promise<Record<TaskStatus, number>> {
    const out = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
    for (const r of this.stmt.counts.all() as { status: TaskStatus; n: number }[]) if (r.status in out) out[r.status] = r.n;
    return out;
  }

  async requestCancel(id: string): Promise<void> {
    await mainWrite(() => this.stmt.requestCancel.run(id));
  }

  async deleteTask(id: string): Promise<void> {
    // Results first, in chunks with a yield between them, so a huge task does not stall the loop;
    // the task row goes last so that an interrupted delete leaves a task that can be deleted again.
    const seq = this.sql.seqOf(id);
    if (seq !== null) {
      // Each chunk, in one transaction: the rows' catalog entries and transcripts, the rows, and
      // the catalog's watermark lowered to the largest rid left. A freed rid can be taken by the
      // next row inserted (SQLite gives the largest + 1), which the indexer then indexes: its
      // catalog entry and words must be gone by then, or the old words would match the new row.
      const dropChunk = this.sql.db.transaction((): number => {
        const rids = this.stmt.resultsChunk.all(seq) as number[];
        for (const rid of rids) this.drops.row(rid);
        if (rids.length > 0) this.drops.lowerWatermark();
        return rids.length;
      });
      // In the main thread's turn, IMMEDIATE: a deferred transaction that reads the chunk and then
      // writes failed at once with SQLITE_BUSY ("database is locked", a 500) when a scan thread
      // committed in between; busy handlers do not retry that case.
      while ((await mainWrite(() => dropChunk.immediate())) > 0) await yieldToLoop();
      // Then any catalog rows left of it (none, unless an older version's delete was cut short).
      const dropCatalog = this.sql.db.transaction((rids: { rid: number }[]) => {
        for (const { rid } of rids) this.drops.index(rid);
      });
      for (let rids = this.stmt.catalogChunk.all(seq) as { rid: number }[]; rids.length; rids = this.stmt.catalogChunk.all(seq) as { rid: number }[]) {
        await mainWrite(() => dropCatalog.immediate(rids));
        await yieldToLoop();
      }
    }
    await mainWrite(() =>
      this.sql.db.transaction(() => {
        this.stmt.deleteSpeakers.run(id);
        this.stmt.deleteEvents.run(id);
        this.stmt.deleteTask.run(id);
      })(),
    );
    this.sql.forgetSeq(id);
  }
}
