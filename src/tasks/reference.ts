import type { ReuseReference } from '../domain/task.ts';
import { SCANNER_VERSION } from '../scan/version.ts';
import type { TaskRecord, TaskStore } from '../store/types.ts';

/**
 * The scan a task may copy unchanged files' rows from (API.md `reuse`): the latest completed
 * scan of the same resolved root, by the same scanner version, with the same or a richer
 * analysis. Looked up when a task (or a cluster part) starts running, so that a rescan queued
 * behind the first scan of a tree reuses it.
 */
export async function findReference(tasks: TaskStore, record: TaskRecord): Promise<ReuseReference | null> {
  if (record.reuse !== 'auto') return null;
  return tasks.findReference({ root: record.root, analysis: record.snapshot.analysis, scannerVersion: SCANNER_VERSION, excludeId: record.snapshot.task_id });
}
