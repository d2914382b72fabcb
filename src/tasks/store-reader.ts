import type { TaskEvent, TaskSnapshot, TaskStatus } from '../domain/task.ts';
import type { EventLog, StoredTask, TaskStore } from '../store/types.ts';
import type { TaskReader } from './interfaces.ts';

/** What a reader may consult before the store: the latest state of tasks moving in this process. */
export interface LiveView {
  latest(taskId: string): StoredTask | null;
  unpersistedEnd(taskId: string): TaskEvent | null;
}

/**
 * Reads tasks from the store, which holds every snapshot before it is published. In the single
 * process a LiveView answers first for tasks moving here; a cluster's API reads the store only.
 */
export class StoreReader implements TaskReader {
  constructor(
    private readonly tasks: TaskStore,
    private readonly log: EventLog,
    private readonly live?: LiveView,
  ) {}

  async get(id: string): Promise<StoredTask | null> {
    return this.live?.latest(id) ?? this.tasks.getTask(id);
  }

  async rootOf(id: string): Promise<string | null> {
    return (await this.tasks.getRecord(id))?.root ?? null;
  }

  async list(opts: { status?: TaskStatus | undefined; limit: number }): Promise<TaskSnapshot[]> {
    const rows = await this.tasks.listTasks(opts);
    if (!this.live) return rows;
    return rows.map((s) => this.live!.latest(s.task_id)?.snapshot ?? s);
  }

  async terminalEvent(id: string): Promise<TaskEvent | null> {
    return this.live?.unpersistedEnd(id) ?? this.log.terminalEvent(id);
  }
}
