import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { isTerminal, type ScanRequest, type TaskEvent, type TaskSnapshot } from '../domain/task.ts';
import { isUnreadable } from '../store/snapshot-codec.ts';
import type { NewTask, TaskStore } from '../store/types.ts';
import { SCANNER_VERSION } from '../scan/version.ts';
import { QueueFullError, ShuttingDownError, TaskNotFoundError, TaskStateError } from './errors.ts';
import { SHUTDOWN, type TaskExecutor } from './executor.ts';
import type { TaskQueue } from './interfaces.ts';
import type { LocalEvents } from './local-events.ts';

export interface LocalQueueOptions {
  tasks: TaskStore;
  events: LocalEvents;
  executor: TaskExecutor;
  maxConcurrent: number;
  maxQueued: number;
  onInternalError?: ((err: unknown, taskId: string) => void) | undefined;
}

interface Entry {
  /** Set while the task runs. */
  controller: AbortController | null;
}

const QUEUE_RETRY_AFTER_S = 10;

const now = (): string => new Date().toISOString();

/** The snapshot of a task just accepted. */
export function queuedSnapshot(req: ScanRequest): TaskSnapshot {
  return {
    task_id: randomUUID(),
    status: 'queued',
    phase: null,
    progress: 0,
    message: 'Queued',
    libritts_path: req.libritts_path,
    analysis: req.analysis,
    subsets: req.subsets?.length ? req.subsets : null,
    files_total: null,
    files_done: 0,
    files_failed: 0,
    files_reused: 0,
    bytes_done: 0,
    files_per_s: null,
    eta_s: null,
    created_at: now(),
    started_at: null,
    finished_at: null,
    error: null,
    summary: null,
  };
}

/** What a request is recorded as, with its first snapshot. */
export function newTask(req: ScanRequest, snapshot: TaskSnapshot): NewTask {
  return { snapshot, root: req.root, reuse: req.reuse ?? 'auto', scannerVersion: SCANNER_VERSION };
}

/**
 * The single process's queue: runs up to `maxConcurrent` tasks through the executor, queues up
 * to `maxQueued` more, and resumes what an earlier process left unfinished.
 */
export class LocalTaskQueue implements TaskQueue {
  private readonly live = new Map<string, Entry>();
  private readonly waiting: string[] = [];
  private readonly runs = new Set<Promise<void>>();
  private running = 0;
  /** POSTs whose task is being inserted: counted against maxQueued with the waiting ones (submit). */
  private inserting = 0;
  private stopping = false;

  constructor(private readonly opts: LocalQueueOptions) {}

  /** Re-queues tasks a previous process left queued or running, in their original order. */
  async init(): Promise<void> {
    const { tasks, executor } = this.opts;
    for (const t of await tasks.unfinishedTasks()) {
      const em = executor.emitter(t);
      if (isUnreadable(t.snapshot)) {
        // Its record cannot be read back: end it as failed rather than refuse to start.
        await em.finish('failed', { error: t.snapshot.error! });
        continue;
      }
      if (t.cancel_requested) {
        // The cancel was accepted before the restart: it stands.
        await em.finish('cancelled');
        continue;
      }
      Object.assign(em.snap, { status: 'queued', phase: null, message: 'Queued (resumed after restart)', files_total: null, files_per_s: null, eta_s: null });
      await em.announce();
      this.live.set(t.snapshot.task_id, { controller: null });
      this.waiting.push(t.snapshot.task_id);
    }
    this.pump();
  }

  async submit(req: ScanRequest): Promise<TaskSnapshot> {
    if (this.stopping) throw new ShuttingDownError();
    const free = Math.max(0, this.opts.maxConcurrent - this.running);
    // POSTs whose insert is under way count too: each awaits the store (a scan thread's commit
    // can hold it a few ms), and all that arrived meanwhile passed this check before any was queued.
    if (this.waiting.length + this.inserting + 1 - free > this.opts.maxQueued) throw new QueueFullError(QUEUE_RETRY_AFTER_S);
    const snap = queuedSnapshot(req);
    // The task and its first event go to the store in one write: the POST's only disk work.
    const first: TaskEvent = { id: 1, type: 'progress', snapshot: { ...snap } };
    this.inserting++;
    try {
      await this.opts.tasks.insertTask(newTask(req, snap), first);
    } finally {
      this.inserting--;
    }
    this.opts.events.publish(first, true);
    this.live.set(snap.task_id, { controller: null });
    this.waiting.push(snap.task_id);
    // Start on a later turn: the POST answers before any scanning begins.
    setImmediate(() => this.pump());
    return { ...snap };
  }

  async cancel(id: string): Promise<void> {
    const entry = this.live.get(id);
    if (!entry) {
      const stored = this.opts.events.latest(id) ?? (await this.opts.tasks.getTask(id));
      if (!stored) throw new TaskNotFoundError(id);
      if (isTerminal(stored.snapshot.status)) throw new TaskStateError(id, false);
      await this.opts.tasks.requestCancel(id);
      return;
    }
    // Recorded first: a restart before the task has stopped must not run it on.
    await this.opts.tasks.requestCancel(id);
    if (entry.controller) {
      entry.controller.abort();
      return;
    }
    const at = this.waiting.indexOf(id);
    if (at >= 0) this.waiting.splice(at, 1);
    this.live.delete(id);
    const record = await this.opts.tasks.getTask(id);
    if (record) await this.opts.executor.emitter(record).finish('cancelled', { onlyIf: ['queued'] });
  }

  async remove(id: string): Promise<void> {
    if (this.live.has(id)) throw new TaskStateError(id, true);
    const stored = this.opts.events.latest(id) ?? (await this.opts.tasks.getTask(id));
    if (!stored) throw new TaskNotFoundError(id);
    if (!isTerminal(stored.snapshot.status)) throw new TaskStateError(id, true);
    await this.opts.tasks.deleteTask(id);
    this.opts.events.forget(id);
  }

  async depth(): Promise<{ queued: number; running: number }> {
    return { queued: this.waiting.length, running: this.running };
  }

  get closing(): boolean {
    return this.stopping;
  }

  /**
   * Stops taking work and interrupts running scans without ending them: they stay `running` in
   * the store, with everything recorded so far and their counters checkpointed, and resume on
   * the next start.
   */
  async close(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.opts.events.close();
    for (const e of this.live.values()) e.controller?.abort(SHUTDOWN);
    await Promise.allSettled([...this.runs]);
  }

  private pump(): void {
    while (!this.stopping && this.running < this.opts.maxConcurrent && this.waiting.length > 0) {
      const id = this.waiting.shift()!;
      const entry = this.live.get(id);
      if (!entry) continue;
      const run = this.run(id, entry);
      this.runs.add(run);
      void run.finally(() => this.runs.delete(run));
    }
  }

  private async run(id: string, entry: Entry): Promise<void> {
    this.running++;
    const controller = new AbortController();
    // Every batch in flight listens for the abort (more after a worker crash splits a batch).
    setMaxListeners(0, controller.signal);
    entry.controller = controller;
    try {
      const record = await this.opts.tasks.getRecord(id);
      if (record) await this.opts.executor.run(record, controller.signal);
    } catch (err) {
      this.opts.onInternalError?.(err, id);
    } finally {
      this.live.delete(id);
      this.running--;
      this.pump();
    }
  }
}
