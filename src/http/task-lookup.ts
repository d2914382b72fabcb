import { taskNotFound } from '../errors.ts';
import type { TaskRunner } from '../tasks/runner.ts';
import type { TaskSnapshot } from '../domain/task.ts';
import { isTaskId } from './schemas.ts';

/** The task named in a route, or the contract's 404 (unknown and malformed ids alike). */
export async function findTask(runner: TaskRunner, id: string): Promise<{ snapshot: TaskSnapshot; last_event_id: number }> {
  // UUIDs are case-insensitive; ours are issued in lower case.
  const task = isTaskId(id) ? await runner.get(id.toLowerCase()) : null;
  if (!task) throw taskNotFound(id);
  return task;
}
