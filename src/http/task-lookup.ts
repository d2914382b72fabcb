import { taskNotFound } from '../errors.ts';
import type { StoredTask } from '../store/types.ts';
import type { TaskReader } from '../tasks/interfaces.ts';
import { isTaskId } from './schemas.ts';

/** The task named in a route, or the contract's 404 (unknown and malformed ids alike). */
export async function findTask(reader: TaskReader, id: string): Promise<StoredTask> {
  // UUIDs are case-insensitive; ours are issued in lower case.
  const task = isTaskId(id) ? await reader.get(id.toLowerCase()) : null;
  if (!task) throw taskNotFound(id);
  return task;
}
