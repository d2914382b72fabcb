import { TASK_STATUSES, type ReuseReference, type TaskEvent, type TaskSnapshot, type TaskStatus } from '../../domain/task.ts';
import { parseStoredSnapshot, type SnapshotRow } from '../snapshot-codec.ts';
import type { NewTask, ReferenceQuery, StoredTask, TaskRecord, TaskStore } from '../types.ts';
import type { Pg } from './connection.ts';

type RecordRow = SnapshotRow & { last_event_id: number; root: string; cancel_requested: boolean; reuse: string };
const COLS = 'id::text AS id, status, created_at, snapshot, last_event_id, root, cancel_requested, reuse';

const toRecord = (r: RecordRow): TaskRecord => ({
  snapshot: parseStoredSnapshot(r),
  last_event_id: r.last_event_id,
  root: r.root,
  cancel_requested: r.cancel_requested,
  reuse: r.reuse === 'auto' ? 'auto' : 'none',
});

/** Tasks in PostgreSQL, shared by every API and worker process of a cluster. */
export class PgTaskStore implements TaskStore {
  constructor(private readonly db: Pg) {}

  async insertTask(task: NewTask, first: TaskEvent, maxQueued?: number): Promise<boolean> {
    const s = task.snapshot;
    const json = JSON.stringify(s);
    // One round trip (schema.ts vl_admit): a POST's latency is mostly round trips to the server.
    const { rows } = await this.db.query<{ ok: boolean }>('SELECT vl_admit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) AS ok', [
      s.task_id,
      s.status,
      s.created_at,
      first.id,
      first.type,
      json,
      task.root,
      maxQueued ?? null,
      task.reuse,
      task.scannerVersion,
    ]);
    return rows[0]!.ok;
  }

  async findReference(q: ReferenceQuery): Promise<ReuseReference | null> {
    const { rows } = await this.db.query<{ id: string; analysis: string }>(
      `SELECT id::text AS id, (snapshot::json ->> 'analysis') AS analysis FROM tasks
       WHERE root = $1 AND status = 'completed' AND scanner_version = $2 AND id <> $3 AND ($4 = 'header' OR (snapshot::json ->> 'analysis') = 'full')
       ORDER BY seq DESC LIMIT 1`,
      [q.root, q.scannerVersion, q.excludeId, q.analysis],
    );
    const r = rows[0];
    return r ? { taskId: r.id, analysis: r.analysis === 'full' ? 'full' : 'header' } : null;
  }

  async getTask(id: string): Promise<StoredTask | null> {
    const r = await this.getRecord(id);
    return r ? { snapshot: r.snapshot, last_event_id: r.last_event_id } : null;
  }

  async getRecord(id: string): Promise<TaskRecord | null> {
    const { rows } = await this.db.query<RecordRow>(`SELECT ${COLS} FROM tasks WHERE id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async listTasks(opts: { status?: TaskStatus | undefined; limit: number }): Promise<TaskSnapshot[]> {
    const { rows } = opts.status
      ? await this.db.query<SnapshotRow>('SELECT id::text AS id, status, created_at, snapshot FROM tasks WHERE status = $1 ORDER BY seq DESC LIMIT $2', [opts.status, opts.limit])
      : await this.db.query<SnapshotRow>('SELECT id::text AS id, status, created_at, snapshot FROM tasks ORDER BY seq DESC LIMIT $1', [opts.limit]);
    return rows.map(parseStoredSnapshot);
  }

  async unfinishedTasks(): Promise<TaskRecord[]> {
    const { rows } = await this.db.query<RecordRow>(`SELECT ${COLS} FROM tasks WHERE status IN ('queued', 'running') ORDER BY seq`);
    return rows.map(toRecord);
  }

  async countByStatus(): Promise<Record<TaskStatus, number>> {
    const out = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
    const { rows } = await this.db.query<{ status: TaskStatus; n: number }>('SELECT status, COUNT(*) AS n FROM tasks GROUP BY status');
    for (const r of rows) if (r.status in out) out[r.status] = r.n;
    return out;
  }

  async requestCancel(id: string): Promise<void> {
    await this.db.query('UPDATE tasks SET cancel_requested = true WHERE id = $1', [id]);
  }

  async deleteTask(id: string): Promise<void> {
    // Events, results, speakers and parts go with it (ON DELETE CASCADE), in one transaction.
    await this.db.query('DELETE FROM tasks WHERE id = $1', [id]);
  }

  /**
   * Takes or renews the lease on coordinating a task: granted when nobody holds it, when this
   * worker does, or when its holder has been silent for `staleS` seconds. PostgreSQL, not Redis,
   * decides who coordinates, so a job BullMQ hands out twice still has one coordinator.
   */
  async claimCoordination(id: string, worker: string, staleS: number): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE tasks SET coordinator = $2, heartbeat_at = now()
       WHERE id = $1 AND (coordinator IS NULL OR coordinator = $2 OR heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => $3))`,
      [id, worker, staleS],
    );
    return rowCount === 1;
  }

  /** Lets go of the lease (the coordinator stopped), so another worker may take over at once. */
  async releaseCoordination(id: string, worker: string): Promise<void> {
    await this.db.query('UPDATE tasks SET coordinator = NULL WHERE id = $1 AND coordinator = $2', [id, worker]);
  }

  /** Unfinished tasks nobody coordinates: no lease, or one silent for `staleS` seconds. */
  async orphans(staleS: number): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(
      `SELECT id::text AS id FROM tasks WHERE status IN ('queued', 'running')
       AND (coordinator IS NULL OR heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => $1)) ORDER BY seq`,
      [staleS],
    );
    return rows.map((r) => r.id);
  }
}
