import { taskNotFound } from '../errors.ts';
import type { TaskRunner } from '../tasks/runner.ts';
import type { TaskSnapshot } from '../tasks/types.ts';
import { isTaskId } from './schemas.ts';

/** The task named in a route, or the contract's 404 (unknown and malformed ids alike). */
export async function findTask(runner: TaskRunner, id: string): Promise<{ snapshot: TaskSnapshot; last_event_id: number }> {
  const task = isTaskId(id) ? await runner.get(id) : null;
  if (!task) throw taskNotFound(id);
  return task;
}
