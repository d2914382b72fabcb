import { isTerminal, type TaskSnapshot } from '../domain/task.ts';
import type { TaskEvents, TaskReader } from './interfaces.ts';

/**
 * Resolves with a task's final snapshot once it has ended, or null after `timeoutMs`. Works the
 * same whichever process ends the task: it listens to the task's events and reads its state.
 */
export async function waitForEnd(reader: TaskReader, events: TaskEvents, id: string, timeoutMs: number): Promise<TaskSnapshot | null> {
  let off = (): void => {};
  let timer: NodeJS.Timeout | undefined;
  try {
    const ended = new Promise<TaskSnapshot | null>((resolve) => {
      off = events.subscribe(id, (e) => {
        if (isTerminal(e.snapshot.status)) resolve(e.snapshot);
      });
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    // Read after subscribing, so that an end between the two cannot be missed.
    const now = await reader.get(id);
    if (now && isTerminal(now.snapshot.status)) return now.snapshot;
    return await ended;
  } finally {
    off();
    clearTimeout(timer);
  }
}
