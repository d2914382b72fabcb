import type { AggregateState, PartProgress, PartSpec } from '../../domain/scan-part.ts';
import type { Pg } from './connection.ts';

export interface PartRow {
  key: string;
  spec: PartSpec;
  status: 'pending' | 'done' | 'failed';
  runs: number;
  error: { code: string; detail: string } | null;
  /** Seconds since the part's worker last reported, or null if none ever did. */
  silent_s: number | null;
}

export interface PartsTotal extends PartProgress {
  parts: number;
  partsDone: number;
  partsFailed: number;
}

/**
 * The parts of a cluster's scans, in PostgreSQL: registered by the task's coordinator, taken and
 * reported on by whichever worker runs each, summed by the coordinator. Progress is written as
 * absolute counts, so a part run twice (a retry after a crash) never counts a file twice.
 */
export class PgPartStore {
  constructor(private readonly db: Pg) {}

  /** Registers a task's parts; parts registered before keep their state (a coordinator's restart). */
  async register(taskId: string, parts: PartSpec[]): Promise<void> {
    await this.db.query('INSERT INTO task_parts (task_id, key, spec) SELECT $1, * FROM UNNEST($2::text[], $3::text[]) ON CONFLICT DO NOTHING', [
      taskId,
      parts.map((p) => p.key),
      parts.map((p) => JSON.stringify(p)),
    ]);
  }

  async list(taskId: string): Promise<PartRow[]> {
    const { rows } = await this.db.query<{
      key: string;
      spec: string;
      status: PartRow['status'];
      runs: number;
      error_code: string | null;
      error_detail: string | null;
      silent_s: number | null;
    }>(
      `SELECT key, spec, status, runs, error_code, error_detail, EXTRACT(EPOCH FROM now() - heartbeat_at)::float8 AS silent_s
       FROM task_parts WHERE task_id = $1 ORDER BY key`,
      [taskId],
    );
    return rows.map((r) => ({
      key: r.key,
      spec: JSON.parse(r.spec) as PartSpec,
      status: r.status,
      runs: r.runs,
      error: r.error_code ? { code: r.error_code, detail: r.error_detail ?? '' } : null,
      silent_s: r.silent_s,
    }));
  }

  /**
   * A worker takes a part: counts the run and tells whether an earlier run may have recorded
   * files (then they are looked up, not read again). Null when the part is already over.
   */
  async take(taskId: string, key: string, worker: string): Promise<{ spec: PartSpec; resume: boolean } | null> {
    const { rows } = await this.db.query<{ spec: string; runs: number }>(
      "UPDATE task_parts SET runs = runs + 1, worker = $3, heartbeat_at = now() WHERE task_id = $1 AND key = $2 AND status = 'pending' RETURNING spec, runs",
      [taskId, key, worker],
    );
    const r = rows[0];
    return r ? { spec: JSON.parse(r.spec) as PartSpec, resume: r.runs > 1 } : null;
  }

  /**
   * A part's counts as its worker reports them. The rows recorded only grow, so the counts of
   * rows never go below the stored ones: a part run again after its worker died counts the rows
   * of the dead run again from 0 as its walk finds them (the task's files_done fell by 512 so).
   * `found` is as reported: what the walk finds now. Answers whether the task still wants the
   * part: not once it is cancelled, ended or deleted, which its worker may not have heard of
   * (the stop message goes over Redis, which may be down).
   */
  async report(taskId: string, key: string, p: PartProgress): Promise<boolean> {
    const { rows } = await this.db.query<{ wanted: boolean }>(
      `UPDATE task_parts SET found = $3, walked = $4, done = GREATEST(done, $5), failed = GREATEST(failed, $6), bytes = GREATEST(bytes, $7),
         reused = GREATEST(reused, $8), heartbeat_at = now() WHERE task_id = $1 AND key = $2 AND status = 'pending'
       RETURNING (SELECT NOT cancel_requested AND status NOT IN ('completed', 'failed', 'cancelled') FROM tasks WHERE id = $1) AS wanted`,
      [taskId, key, p.found, p.walked, p.done, p.failed, p.bytes, p.reused],
    );
    // No row: the part is over, or its task was deleted (its parts with it).
    return rows[0]?.wanted === true;
  }

  async finish(taskId: string, key: string, p: PartProgress, aggregate: AggregateState): Promise<void> {
    await this.db.query(
      "UPDATE task_parts SET status = 'done', found = $3, walked = true, done = $4, failed = $5, bytes = $6, reused = $7, aggregate = $8, heartbeat_at = now() WHERE task_id = $1 AND key = $2 AND status = 'pending'",
      [taskId, key, p.found, p.done, p.failed, p.bytes, p.reused, JSON.stringify(aggregate)],
    );
  }

  async fail(taskId: string, key: string, error: { code: string; detail: string }): Promise<void> {
    await this.db.query("UPDATE task_parts SET status = 'failed', error_code = $3, error_detail = $4 WHERE task_id = $1 AND key = $2 AND status = 'pending'", [
      taskId,
      key,
      error.code,
      error.detail,
    ]);
  }

  /** The sums over a task's parts, and the task's cancel flag, in one round trip. */
  async total(taskId: string): Promise<PartsTotal & { cancelRequested: boolean }> {
    const { rows } = await this.db.query<PartsTotal & { cancelRequested: boolean | null }>(
      `SELECT COALESCE(SUM(found), 0) AS found, COALESCE(BOOL_AND(walked), false) AS walked, COALESCE(SUM(done), 0) AS done,
              COALESCE(SUM(failed), 0) AS failed, COALESCE(SUM(bytes), 0)::int8 AS bytes, COALESCE(SUM(reused), 0) AS reused, COUNT(*) AS parts,
              COUNT(*) FILTER (WHERE status = 'done') AS "partsDone", COUNT(*) FILTER (WHERE status = 'failed') AS "partsFailed",
              (SELECT cancel_requested FROM tasks WHERE id = $1) AS "cancelRequested"
       FROM task_parts WHERE task_id = $1`,
      [taskId],
    );
    const r = rows[0]!;
    return { ...r, cancelRequested: r.cancelRequested === true };
  }

  async aggregates(taskId: string): Promise<AggregateState[]> {
    const { rows } = await this.db.query<{ aggregate: string }>("SELECT aggregate FROM task_parts WHERE task_id = $1 AND status = 'done' ORDER BY key", [taskId]);
    return rows.map((r) => JSON.parse(r.aggregate) as AggregateState);
  }
}
