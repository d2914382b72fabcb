import { isTerminal, type TaskEvent, type TaskEventType, type TaskPhase, type TaskSnapshot, type TaskStatus, type TerminalStatus } from '../domain/task.ts';
import type { EventLog } from '../store/types.ts';
import type { EventPublisher, TaskProgress } from './interfaces.ts';

export interface EmitterDeps {
  events: EventLog;
  publisher: EventPublisher;
  /** Progress events are coalesced to at most one per this interval per task. */
  progressIntervalMs: number;
  onError?: ((err: unknown, taskId: string) => void) | undefined;
}

const now = (): string => new Date().toISOString();

/**
 * One task's snapshot and its events: applies progress to the snapshot, coalesces progress
 * events to one per interval (phase changes and the end go out at once), and for each event
 * persists first, then publishes, one after another so that ids reach listeners in order.
 * The same code serves the single process and a cluster's coordinating worker.
 */
export class TaskEmitter {
  private timer: NodeJS.Timeout | null = null;
  private lastEmitAt = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** The last event id known to be taken (persisted, or assigned in memory when the store refused). */
  private lastId: number;

  constructor(
    private readonly deps: EmitterDeps,
    readonly snap: TaskSnapshot,
    lastEventId: number,
  ) {
    this.lastId = lastEventId;
  }

  get taskId(): string {
    return this.snap.task_id;
  }

  /** Marks the task running and says so at once. */
  start(): Promise<TaskEvent | null> {
    const s = this.snap;
    s.status = 'running';
    s.phase = 'discovering';
    s.message = 'Starting';
    s.started_at ??= now();
    return this.emitNow('progress', true);
  }

  /** Publishes the snapshot as it stands, at once, as an event kept in the log. */
  announce(): Promise<TaskEvent | null> {
    return this.emitNow('progress', true);
  }

  /** Applies counters; the event follows within the progress interval. */
  progress(p: TaskProgress, message?: string): void {
    if (this.closed) return;
    this.apply(p, message);
    this.schedule();
  }

  /** Enters a phase; a real change is published at once, a repeat is ordinary progress. */
  phase(phase: TaskPhase, p: TaskProgress, message?: string): Promise<TaskEvent | null> | void {
    if (this.closed) return;
    const changed = this.snap.phase !== phase;
    this.snap.phase = phase;
    this.apply(p, message);
    if (changed) return this.emitNow('progress', true);
    this.schedule();
  }

  /**
   * Ends the task. Resolves with the terminal event, or null when the store says the task had
   * already ended or is not in one of `onlyIf` (another process got there first). `stored`: the
   * counts of the rows the store holds, which replace the ones heard of so far.
   */
  finish(
    status: TerminalStatus,
    opts: { error?: { code: string; detail: string }; onlyIf?: readonly TaskStatus[]; stored?: Pick<TaskProgress, 'done' | 'failed' | 'reused' | 'bytes'> | undefined } = {},
  ): Promise<TaskEvent | null> {
    const s = this.snap;
    // The counts of the rows the store holds: a scan thread stopped by a cancel may have recorded
    // a batch it never got to report (the cancelled task's files_done was one batch short of its rows).
    if (opts.stored) this.apply({ found: s.files_total ?? 0, walked: false, ...opts.stored });
    s.status = status;
    s.phase = null;
    s.finished_at = now();
    s.eta_s = null;
    if (opts.error) s.error = opts.error;
    if (status === 'completed') {
      s.progress = 100;
      s.message = `Scan completed: ${s.files_done} files, ${s.files_failed} failed`;
    } else if (status === 'cancelled') {
      s.message = 'Scan cancelled';
    } else {
      s.message = `Scan failed: ${s.error?.detail ?? 'unknown error'}`;
    }
    const ended = this.emitNow(status, true, opts.onlyIf);
    this.closed = true;
    return ended;
  }

  /**
   * Persists the newest counters as an event of their own (a shutdown's checkpoint), then stops.
   * `stored`: the counts of the rows the store holds, which replace the ones heard of so far (a
   * scan thread may have recorded a batch it never got to report).
   */
  checkpoint(stored?: Pick<TaskProgress, 'done' | 'failed' | 'reused' | 'bytes'>): Promise<TaskEvent | null> {
    if (this.closed) return this.chain.then(() => null);
    if (stored) {
      // Not `walked`: the total stays as it was.
      this.apply({ found: this.snap.files_total ?? 0, walked: false, ...stored });
    }
    this.snap.files_per_s = null;
    this.snap.eta_s = null;
    const done = this.emitNow('progress', false);
    this.stop();
    return done;
  }

  /** Stops publishing (a pending coalesced event is dropped). */
  stop(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Resolves once every event asked for so far is persisted and published. */
  flush(): Promise<void> {
    return this.chain.then(() => undefined);
  }

  private apply(p: TaskProgress, message?: string): void {
    const s = this.snap;
    s.files_done = p.done;
    s.files_failed = p.failed;
    s.files_reused = p.reused;
    s.bytes_done = p.bytes;
    if (p.walked) s.files_total = p.found;
    if (message !== undefined) s.message = message;
    let pct = s.progress;
    if (s.phase === 'processing' && s.files_total) pct = Math.min(99, Math.floor((100 * s.files_done) / s.files_total));
    else if (s.phase === 'finalizing') pct = 99;
    s.progress = Math.max(s.progress, pct);
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    const wait = this.deps.progressIntervalMs - (Date.now() - this.lastEmitAt);
    if (wait <= 0) {
      void this.emitNow('progress', false);
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.closed && !isTerminal(this.snap.status)) void this.emitNow('progress', false);
    }, wait);
  }

  /**
   * Takes the next event: persists the snapshot (and the event, when `record`), then publishes
   * it. A store that refuses (disk full) does not silence the stream: the event still goes out,
   * marked unpersisted, so that clients see the end.
   */
  private emitNow(type: TaskEventType, record: boolean, onlyIf?: readonly TaskStatus[]): Promise<TaskEvent | null> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.lastEmitAt = Date.now();
    const snapshot = { ...this.snap };
    const { events, publisher, onError } = this.deps;
    const step = this.chain.then(async (): Promise<TaskEvent | null> => {
      let event: TaskEvent | null;
      let persisted = true;
      try {
        event = await events.append(snapshot.task_id, type, snapshot, onlyIf ? { record, onlyIf, after: this.lastId } : { record, after: this.lastId });
      } catch (err) {
        onError?.(err, snapshot.task_id);
        persisted = false;
        event = { id: this.lastId + 1, type, snapshot };
      }
      if (!event) return null;
      this.lastId = event.id;
      publisher.publish(event, persisted);
      return event;
    });
    this.chain = step.catch(() => null);
    return step;
  }
}
