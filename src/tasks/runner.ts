import { randomUUID } from 'node:crypto';
import { EventEmitter, setMaxListeners } from 'node:events';
import { isUnreadable } from '../store/snapshot-codec.ts';
import type { TaskStore } from '../store/types.ts';
import { QueueFullError, ShuttingDownError, TaskNotFoundError, TaskStateError } from './errors.ts';
import { ScanFailure, type ScanContext, type ScanProgress, type Scanner } from './scanner.ts';
import { TypedEmitter } from './typed-emitter.ts';
import { isTerminal, type ScanRequest, type TaskEvent, type TaskEventType, type TaskPhase, type TaskSnapshot, type TaskStatus, type TerminalStatus } from '../domain/task.ts';

export interface RunnerOptions {
  store: TaskStore;
  scanner: Scanner;
  maxConcurrent: number;
  maxQueued: number;
  /** Progress events are coalesced to at most one per this interval per task. */
  progressIntervalMs: number;
  onInternalError?: (err: unknown, taskId: string) => void;
}

/** The runner's typed events. */
export interface RunnerEvents {
  /** Every event of every task, after it has been persisted. */
  event: [TaskEvent];
  /** The runner is shutting down: streams should end so that clients reconnect elsewhere. */
  closing: [];
  [key: string]: unknown[];
}

interface LiveTask {
  snap: TaskSnapshot;
  /** The resolved root the scan reads (see ScanRequest.root). */
  root: string;
  lastEventId: number;
  /** The id of the last event actually emitted (lastEventId may be ahead while it persists). */
  emittedId: number;
  /** The terminal event once emitted (served from memory if the store refused it). */
  terminal: TaskEvent | null;
  controller: AbortController | null;
  timer: NodeJS.Timeout | null;
  lastEmitAt: number;
  /** Persist-then-emit steps run one after another so ids reach clients in order. */
  chain: Promise<void>;
  settled: Promise<TaskSnapshot>;
  resolveSettled: (s: TaskSnapshot) => void;
}

/** Why a running task was stopped by a shutdown: it stays `running` in the store and resumes. */
const SHUTDOWN = Symbol('shutdown');
const QUEUE_RETRY_AFTER_S = 10;

const now = (): string => new Date().toISOString();

/**
 * The in-process task queue: runs up to `maxConcurrent` scans, queues up to `maxQueued` more,
 * coalesces progress, persists every event before emitting it, and resumes unfinished tasks
 * from the store at start. Per-task listeners (`subscribe`) are what SSE streams attach to.
 */
export class TaskRunner extends TypedEmitter<RunnerEvents> {
  private readonly live = new Map<string, LiveTask>();
  private readonly queue: string[] = [];
  private readonly bus = new EventEmitter();
  private readonly runs = new Set<Promise<void>>();
  private running = 0;
  private stopping = false;

  constructor(private readonly opts: RunnerOptions) {
    super();
    // One 'closing' listener per open event stream, and one bus listener per stream and task.
    this.setMaxListeners(0);
    this.bus.setMaxListeners(0);
  }

  /** Re-queues tasks a previous process left queued or running, in their original order. */
  async init(): Promise<void> {
    for (const t of await this.opts.store.unfinishedTasks()) {
      if (isUnreadable(t.snapshot)) {
        // Its record cannot be read back: end it as failed rather than refuse to start.
        const task = this.track(t.snapshot, t.last_event_id, t.root);
        task.snap.finished_at = now();
        this.emitNow(task, 'failed', true).then(() => this.live.delete(t.snapshot.task_id), () => {});
        continue;
      }
      const snap: TaskSnapshot = { ...t.snapshot, status: 'queued', phase: null, message: 'Queued (resumed after restart)', files_per_s: null, eta_s: null };
      const task = this.track(snap, t.last_event_id, t.root);
      if (t.cancel_requested) {
        // The cancel was accepted before the restart: it stands.
        this.finish(task, 'cancelled');
        continue;
      }
      this.emitNow(task, 'progress', true);
      this.queue.push(snap.task_id);
    }
    this.pump();
  }

  async submit(req: ScanRequest): Promise<TaskSnapshot> {
    if (this.stopping) throw new ShuttingDownError();
    const free = Math.max(0, this.opts.maxConcurrent - this.running);
    if (this.queue.length + 1 - free > this.opts.maxQueued) throw new QueueFullError(QUEUE_RETRY_AFTER_S);
    const snap: TaskSnapshot = {
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
      bytes_done: 0,
      files_per_s: null,
      eta_s: null,
      created_at: now(),
      started_at: null,
      finished_at: null,
      error: null,
      summary: null,
    };
    // The task and its first event go to the store in one write: the POST's only disk work.
    const first: TaskEvent = { id: 1, type: 'progress', snapshot: { ...snap } };
    await this.opts.store.insertTask({ snapshot: snap, last_event_id: first.id, root: req.root }, first);
    const task = this.track(snap, first.id, req.root);
    task.lastEmitAt = Date.now();
    this.emit('event', first);
    this.queue.push(snap.task_id);
    // Start on a later turn: the POST answers before any scanning begins.
    setImmediate(() => this.pump());
    return { ...snap };
  }

  /** The latest snapshot and event id of a task, live or stored; null when unknown. */
  async get(id: string): Promise<{ snapshot: TaskSnapshot; last_event_id: number } | null> {
    const task = this.live.get(id);
    if (task) return { snapshot: { ...task.snap }, last_event_id: task.emittedId };
    return this.opts.store.getTask(id);
  }

  /** The task's terminal event once it has been emitted; null while the task is active. */
  async terminalEvent(id: string): Promise<TaskEvent | null> {
    const task = this.live.get(id);
    if (task) return task.terminal;
    return this.opts.store.terminalEvent(id);
  }

  list(opts: { status?: TaskStatus | undefined; limit: number }): Promise<TaskSnapshot[]> {
    return this.opts.store.listTasks(opts).then((rows) => rows.map((s) => (this.live.has(s.task_id) ? { ...this.live.get(s.task_id)!.snap } : s)));
  }

  /** Listens to one task's events; returns the function that stops listening. */
  subscribe(id: string, listener: (e: TaskEvent) => void): () => void {
    this.bus.on(id, listener);
    return () => this.bus.off(id, listener);
  }

  /** Listeners attached to one task (or to all tasks): SSE clients, in practice. */
  taskListenerCount(id?: string): number {
    if (id) return this.bus.listenerCount(id);
    return this.bus.eventNames().reduce((n, name) => n + this.bus.listenerCount(name), 0);
  }

  /** Resolves with the final snapshot once the task has ended (at once for an ended task). */
  async settled(id: string): Promise<TaskSnapshot> {
    const task = this.live.get(id);
    if (task) return task.settled;
    const stored = await this.opts.store.getTask(id);
    if (!stored) throw new TaskNotFoundError(id);
    return stored.snapshot;
  }

  /** Cancels a queued or running task; resolves when it has stopped. */
  async cancel(id: string): Promise<TaskSnapshot> {
    const task = this.live.get(id);
    if (!task || isTerminal(task.snap.status)) {
      if (task || (await this.opts.store.getTask(id))) throw new TaskStateError(id, false);
      throw new TaskNotFoundError(id);
    }
    if (task.snap.status === 'queued') {
      this.queue.splice(this.queue.indexOf(id), 1);
      this.finish(task, 'cancelled');
    } else {
      // Recorded first: a restart before the scan has stopped must not run it on.
      await this.opts.store.requestCancel(id).catch((err) => this.opts.onInternalError?.(err, id));
      task.controller?.abort();
    }
    return task.settled;
  }

  async remove(id: string): Promise<void> {
    const task = this.live.get(id);
    if (task && !isTerminal(task.snap.status)) throw new TaskStateError(id, true);
    if (!task && !(await this.opts.store.getTask(id))) throw new TaskNotFoundError(id);
    this.live.delete(id);
    await this.opts.store.deleteTask(id);
  }

  /** Tasks waiting for a slot and tasks running now. */
  get counts(): { queued: number; running: number } {
    return { queued: this.queue.length, running: this.running };
  }

  /**
   * Stops taking work and interrupts running scans without ending them: they stay `running`
   * in the store, with everything recorded so far, and resume on the next start.
   */
  async close(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.emit('closing');
    for (const task of this.live.values()) {
      if (task.timer) clearTimeout(task.timer);
      task.controller?.abort(SHUTDOWN);
    }
    await Promise.allSettled([...this.runs]);
    await Promise.allSettled([...this.live.values()].map((t) => t.chain));
    // Checkpoint: the newest counters of interrupted tasks, under their last emitted event id.
    for (const task of this.live.values()) {
      if (task.snap.status !== 'running') continue;
      await this.opts.store.saveTask({ snapshot: { ...task.snap, files_per_s: null, eta_s: null }, last_event_id: task.lastEventId }).catch((err) =>
        this.opts.onInternalError?.(err, task.snap.task_id),
      );
    }
  }

  /** Whether close() has begun. */
  get closing(): boolean {
    return this.stopping;
  }

  private track(snap: TaskSnapshot, lastEventId: number, root: string): LiveTask {
    let resolveSettled!: (s: TaskSnapshot) => void;
    const settled = new Promise<TaskSnapshot>((r) => (resolveSettled = r));
    const task: LiveTask = { snap, root, lastEventId, emittedId: lastEventId, terminal: null, controller: null, timer: null, lastEmitAt: 0, chain: Promise.resolve(), settled, resolveSettled };
    this.live.set(snap.task_id, task);
    return task;
  }

  private pump(): void {
    while (!this.stopping && this.running < this.opts.maxConcurrent && this.queue.length > 0) {
      const task = this.live.get(this.queue.shift()!);
      if (!task) continue;
      const run = this.run(task);
      this.runs.add(run);
      void run.finally(() => this.runs.delete(run));
    }
  }

  private async run(task: LiveTask): Promise<void> {
    this.running++;
    const controller = new AbortController();
    // Every batch in flight listens for the abort (more after a worker crash splits a batch).
    setMaxListeners(0, controller.signal);
    task.controller = controller;
    const snap = task.snap;
    snap.status = 'running';
    snap.phase = 'discovering';
    snap.message = 'Starting';
    snap.started_at ??= now();
    this.emitNow(task, 'progress', true);
    const ctx: ScanContext = {
      signal: controller.signal,
      phase: (phase: TaskPhase, update: ScanProgress) => {
        if (controller.signal.aborted) return;
        const changed = snap.phase !== phase;
        snap.phase = phase;
        this.apply(task, update);
        // Only a real change of phase jumps the coalescing; a repeat is ordinary progress.
        if (changed) this.emitNow(task, 'progress', true);
        else this.schedule(task);
      },
      progress: (update: ScanProgress) => {
        if (controller.signal.aborted) return;
        this.apply(task, update);
        this.schedule(task);
      },
    };
    try {
      const summary = await this.opts.scanner.scan(
        { task_id: snap.task_id, root: task.root, analysis: snap.analysis, subsets: snap.subsets },
        ctx,
      );
      if (controller.signal.aborted) throw controller.signal.reason;
      snap.summary = summary;
      this.finish(task, 'completed');
    } catch (err) {
      if (controller.signal.reason === SHUTDOWN) {
        // Left as `running` in the store: the next start resumes it.
      } else if (controller.signal.aborted) {
        this.finish(task, 'cancelled');
      } else if (err instanceof ScanFailure) {
        snap.error = { code: err.code, detail: err.detail };
        this.finish(task, 'failed');
      } else {
        this.opts.onInternalError?.(err, snap.task_id);
        snap.error = { code: 'INTERNAL_ERROR', detail: 'The scan failed unexpectedly; see the server log' };
        this.finish(task, 'failed');
      }
    } finally {
      this.running--;
      this.pump();
    }
  }

  private apply(task: LiveTask, u: ScanProgress): void {
    const s = task.snap;
    Object.assign(s, u);
    let p = s.progress;
    if (s.phase === 'processing' && s.files_total) p = Math.min(99, Math.floor((100 * s.files_done) / s.files_total));
    else if (s.phase === 'finalizing') p = 99;
    s.progress = Math.max(s.progress, p);
  }

  private finish(task: LiveTask, status: TerminalStatus): void {
    const s = task.snap;
    s.status = status;
    s.phase = null;
    s.finished_at = now();
    s.eta_s = null;
    if (status === 'completed') {
      s.progress = 100;
      s.message = `Scan completed: ${s.files_done} files, ${s.files_failed} failed`;
    } else if (status === 'cancelled') {
      s.message = 'Scan cancelled';
    } else {
      s.message = `Scan failed: ${s.error?.detail ?? 'unknown error'}`;
    }
    const stored = this.emitNow(task, status, true);
    void stored.then((ok) => {
      // A terminal state the store refused (disk full) stays served from memory until restart,
      // when the task, still unfinished on disk, resumes.
      if (ok) this.live.delete(s.task_id);
      task.resolveSettled({ ...s });
    });
  }

  private schedule(task: LiveTask): void {
    if (task.timer) return;
    const wait = this.opts.progressIntervalMs - (Date.now() - task.lastEmitAt);
    if (wait <= 0) {
      this.emitNow(task, 'progress', false);
      return;
    }
    task.timer = setTimeout(() => {
      task.timer = null;
      if (!isTerminal(task.snap.status) && !this.stopping) this.emitNow(task, 'progress', false);
    }, wait);
  }

  /**
   * Assigns the next id, persists the snapshot (and the event when `record`), then emits.
   * Resolves with whether the store took it.
   */
  private emitNow(task: LiveTask, type: TaskEventType, record: boolean): Promise<boolean> {
    if (task.timer) {
      clearTimeout(task.timer);
      task.timer = null;
    }
    task.lastEmitAt = Date.now();
    const event: TaskEvent = { id: ++task.lastEventId, type, snapshot: { ...task.snap } };
    const { store } = this.opts;
    let persisted = false;
    task.chain = task.chain.then(async () => {
      try {
        await store.saveTask({ snapshot: event.snapshot, last_event_id: event.id });
        if (record) await store.appendEvent(event.snapshot.task_id, event);
        persisted = true;
      } catch (err) {
        // A store that refuses writes (disk full) must not silence the stream.
        this.opts.onInternalError?.(err, event.snapshot.task_id);
      }
      task.emittedId = event.id;
      if (type !== 'progress') task.terminal = event;
      this.bus.emit(event.snapshot.task_id, event);
      this.emit('event', event);
    });
    return task.chain.then(() => persisted);
  }
}
