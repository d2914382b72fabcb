import { TaskSnapshotSchema, type TaskSnapshot } from '../domain/task.ts';

/** The columns a stored snapshot is read back from. */
export interface SnapshotRow {
  id: string;
  status: string;
  created_at: string;
  snapshot: string;
}

/**
 * Reads a stored snapshot back through the domain schema. A row that does not parse (a bad disk
 * sector, a hand edit) must not take the task list down with it, nor stop the process from
 * starting: it is served as a failed task that says its record is unreadable.
 */
export function parseStoredSnapshot(row: SnapshotRow): TaskSnapshot {
  let parsed: unknown;
  try {
    parsed = JSON.parse(row.snapshot);
  } catch {
    parsed = null;
  }
  const ok = TaskSnapshotSchema.safeParse(parsed);
  if (ok.success) return ok.data;
  return {
    task_id: row.id,
    status: 'failed',
    phase: null,
    progress: 0,
    message: 'The stored record of this task is unreadable',
    libritts_path: '',
    analysis: 'full',
    subsets: null,
    files_total: null,
    files_done: 0,
    files_failed: 0,
    files_reused: 0,
    bytes_done: 0,
    files_per_s: null,
    eta_s: null,
    created_at: row.created_at || new Date(0).toISOString(),
    started_at: null,
    finished_at: null,
    error: { code: 'INTERNAL_ERROR', detail: 'The stored record of this task is unreadable; delete it' },
    summary: null,
  };
}

/** Whether a snapshot came from parseStoredSnapshot's fallback (its record is unreadable). */
export const isUnreadable = (s: TaskSnapshot): boolean => s.status === 'failed' && s.message === 'The stored record of this task is unreadable';
