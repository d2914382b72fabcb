import { Worker } from 'node:worker_threads';
import type { Analysis, FileResult, RecordedFile } from '../domain/file-result.ts';
import { releaseTurnOf, releaseWritesOf } from '../store/sqlite/write-gate.ts';
import { StorageFullError, type RowTarget } from '../store/types.ts';
import { workerModule } from '../worker-url.ts';
import { blankResult } from './analyze-file.ts';
import type { SpeakerInfo } from './libritts.ts';
import type { PartSpec } from './plan.ts';
import type { WalkScope } from './walk.ts';
import { eachFile } from './folder-files.ts';
import type { RootRefusalCode, ScanItem, WorkerFaults, WorkerRequest, WorkerResponse, WrittenBatch } from './types.ts';

// 4 MB made a warm header scan spend 11% of its reading threads' time in scavenges; 8 MB took the
// 50k-file benchmark from 1.0 s to 0.87 s. 16 MB would cut the readers' own GC time by ~38% more
// (~265 against ~430 ms in five 50k-file header scans), but the server's peak RSS under the SSE
// fan-out benchmark then went from 283–287 MB to 310–313 MB, over its 300 MB bound.
const WORKER_YOUNG_GEN_MB = 8;

/** How long an aborted job waits for its thread to be gone (see abort). */
const ABORT_GRACE_MS = 1000;

/** A batch's rows: those the worker recorded itself (`written`), and those the caller records (`rows`). */
export interface BatchOutcome {
  rows: RecordedFile[];
  written: WrittenBatch[];
}

/** Raised for jobs whose signal aborted before or while they ran. */
export class AbortError extends Error {
  override readonly name = 'AbortError';
  constructor() {
    super('The operation was aborted');
  }
}

/** A worker refused a job because its root no longer passes the checks (safe-open.ts verifyRoot). */
export class RootRefusedError extends Error {
  override readonly name = 'RootRefusedError';
  constructor(
    readonly code: RootRefusalCode,
    readonly detail: string,
  ) {
    super(detail);
  }
}

type Request = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

/**
 * What a thread is for: `read` threads scan batches of files; one `list` thread walks trees,
 * plans and counts parts, and reads speaker tables. Apart, a walk never holds a reading thread
 * (a 50,000-file walk held one of two for a third of a header scan), and reading never delays
 * a walk that feeds it.
 */
type Lane = 'read' | 'list';

const laneOf = (r: Request): Lane => (r.type === 'batch' ? 'read' : 'list');

interface Job {
  id: number;
  request: Request;
  signal: AbortSignal | undefined;
  /** Handles one message of this job; returns true when the job is over. */
  onMessage: (msg: WorkerResponse) => boolean;
  reject: (e: unknown) => void;
  onAbort: () => void;
  /** What to do when the worker running this job dies. */
  onCrash: () => void;
}

interface Slot {
  worker: Worker;
  /** The thread's id, kept: a Worker's own reads -1 once the thread has exited. */
  threadId: number;
  /** The thread's count of its writes under way, in memory the pool keeps (write-gate.ts releaseWritesOf). */
  writing: Int32Array;
  lane: Lane;
  job: Job | null;
}

/**
 * After a thread that may have been recording a batch is gone: the turn to write it may have held
 * (write-gate.ts) is given back, and its writes under way are taken out of the gate's count, so
 * that the other writers, the main thread's included, and the catalog's indexer do not wait for a
 * dead thread.
 */
function releaseTurn(job: Job, slot: { threadId: number; writing: Int32Array }): void {
  if (job.request.type !== 'batch' || !job.request.write) return;
  const gate = new Int32Array(job.request.write.gate);
  releaseTurnOf(gate, slot.threadId);
  releaseWritesOf(gate, slot.writing);
}

const worker = workerModule(import.meta.url, 'worker');

export interface WorkerPoolOptions {
  /** Allowed scan roots (resolved); every worker checks each job's root against them. */
  roots?: string[];
  faults?: WorkerFaults;
}

/**
 * A fixed pool of scan worker threads shared by all tasks: `size` threads reading batches of
 * files (one message per file costs more than the file), and one listing thread for tree walks
 * and sidecar tables. An abort drops a task's queued
 * jobs and replaces any worker busy with one, so cancellation frees the threads at once, even
 * from a blocking system call; a crashed worker is replaced too.
 */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queues: Record<Lane, Job[]> = { read: [], list: [] };
  private nextId = 1;
  private closed = false;
  /** Workers being terminated after an abort (one may be stuck in a system call). */
  private readonly terminating = new Set<Worker>();

  constructor(
    readonly size: number,
    private readonly options: WorkerPoolOptions = {},
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn('read'));
    this.slots.push(this.spawn('list'));
  }

  /**
   * Scans `files` under `root` in one worker; rejects with AbortError when `signal` aborts. With
   * `write`, the worker records the rows itself and answers with what they add up to; rows it
   * could not record (files that crashed a worker twice) come back in `rows` for the caller.
   */
  run(root: string, analysis: Analysis, files: ScanItem[], signal?: AbortSignal, write: RowTarget | null = null): Promise<BatchOutcome> {
    return this.batch(root, analysis, files, signal, write, false);
  }

  /**
   * Walks the WAV files of a scope under `root` in a worker, handing them to `onFiles` batch by
   * batch: packed by folder, or with `fingerprints` one by one, each regular file with what a
   * rescan matches (walk.ts).
   */
  walk(root: string, scope: WalkScope, onFiles: (files: ScanItem[]) => void, signal?: AbortSignal, opts: { batch?: number; fingerprints?: boolean } = {}): Promise<void> {
    return new Promise((resolve, reject) =>
      this.enqueue({ type: 'walk', root, scope, batch: opts.batch ?? 256, fingerprints: opts.fingerprints ?? false }, signal, reject, (msg) => {
        if (msg.type === 'found') {
          onFiles(msg.files);
          return false;
        }
        if (msg.type === 'walked') resolve();
        return true;
      }),
    );
  }

  /** Splits a tree into parts (plan.ts folderPlan), listing its folders in a worker. */
  plan(root: string, subsets: string[] | null, signal?: AbortSignal): Promise<PartSpec[]> {
    return new Promise((resolve, reject) =>
      this.enqueue({ type: 'plan', root, subsets }, signal, reject, (msg) => {
        if (msg.type === 'plan') resolve(msg.parts);
        return true;
      }),
    );
  }

  /** Counts the WAV files of some scopes under `root` (a walk that keeps nothing), in a worker. */
  count(root: string, scopes: WalkScope[], signal?: AbortSignal): Promise<number> {
    return new Promise((resolve, reject) =>
      this.enqueue({ type: 'count', root, scopes }, signal, reject, (msg) => {
        if (msg.type === 'count') resolve(msg.files);
        return true;
      }),
    );
  }

  /** The root's speaker table (speakers.tsv / SPEAKERS.txt), read in a worker. */
  speakers(root: string, signal?: AbortSignal): Promise<SpeakerInfo[]> {
    return new Promise((resolve, reject) =>
      this.enqueue({ type: 'speakers', root }, signal, reject, (msg) => {
        if (msg.type === 'speakers') resolve(msg.speakers);
        return true;
      }),
    );
  }

  /** Workers currently running a job (for tests and metrics). */
  get busy(): number {
    return this.slots.filter((s) => s.job).length;
  }

  /** Reading threads with nothing to do. */
  get idleReaders(): number {
    return this.slots.filter((s) => s.lane === 'read' && !s.job).length;
  }

  get queued(): number {
    return this.queues.read.length + this.queues.list.length;
  }

  /**
   * Stops every worker. A worker stuck in a system call that never returns cannot be stopped;
   * it is abandoned after `graceMs`, and the count of such threads is returned, because the
   * process cannot exit normally while one lives (process.exit() waits for it forever).
   */
  async close(graceMs = 1000): Promise<{ stuck: number }> {
    this.closed = true;
    for (const job of [...this.queues.read.splice(0), ...this.queues.list.splice(0)]) this.settle(job, new Error('worker pool closed'));
    const workers = [...this.slots.map((s) => s.worker), ...this.terminating];
    const busy = this.slots.filter((s) => s.job).map((s) => ({ job: s.job!, threadId: s.threadId, writing: s.writing, worker: s.worker }));
    for (const s of this.slots) {
      if (s.job) this.settle(s.job, new Error('worker pool closed'));
      s.job = null;
      s.worker.removeAllListeners('exit');
    }
    const stopped = await Promise.all(workers.map((w) => Promise.race([w.terminate().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), graceMs).unref())])));
    // The shutdown's last writes (a checkpoint, the tasks' states) must not wait for a dead thread's turn.
    busy.forEach((b) => stopped[workers.indexOf(b.worker)] && releaseTurn(b.job, b));
    return { stuck: stopped.filter((ok) => !ok).length };
  }

  private batch(root: string, analysis: Analysis, files: ScanItem[], signal: AbortSignal | undefined, write: RowTarget | null, retry: boolean): Promise<BatchOutcome> {
    return new Promise((resolve, reject) =>
      this.enqueue(
        { type: 'batch', root, analysis, files, write },
        signal,
        reject,
        (msg) => {
          if (msg.type === 'result') resolve({ rows: msg.results, written: [] });
          else if (msg.type === 'written') resolve({ rows: [], written: [msg.batch] });
          else if (msg.type === 'write-failed') reject(msg.storageFull ? new StorageFullError(msg.message) : new Error(`a scan worker could not record its rows: ${msg.message}`));
          return true;
        },
        // A batch that crashed its worker is retried file by file; a file that crashes one again gets an error.
        () => {
          const singles = eachFile(files);
          if (retry || singles.length === 1) resolve({ rows: singles.map((f) => crashedResult(f.rel)), written: [] });
          // Settled, not all: with rows recorded by the threads, the batch must not end while a
          // sibling retry may still be committing (an abort settles once every thread is gone).
          else
            void Promise.allSettled(singles.map((f) => this.batch(root, analysis, [f], signal, write, true))).then((parts) => {
              const failed = parts.find((p): p is PromiseRejectedResult => p.status === 'rejected');
              if (failed) return reject(failed.reason);
              const done = parts.map((p) => (p as PromiseFulfilledResult<BatchOutcome>).value);
              resolve({ rows: done.flatMap((p) => p.rows), written: done.flatMap((p) => p.written) });
            });
        },
      ),
    );
  }

  /** Queues one job; `handle` sees each of its messages and says when the job is over. */
  private enqueue(request: Request, signal: AbortSignal | undefined, reject: (e: unknown) => void, handle: (msg: WorkerResponse) => boolean, onCrash?: () => void): void {
    if (this.closed) return reject(new Error('worker pool is closed'));
    if (signal?.aborted) return reject(new AbortError());
    const job: Job = {
      id: this.nextId++,
      request,
      signal,
      reject,
      onMessage: (msg) => {
        if (msg.type !== 'refused') return handle(msg);
        reject(new RootRefusedError(msg.code, msg.detail));
        return true;
      },
      onAbort: () => this.abort(job),
      onCrash: onCrash ?? (() => reject(new Error('a scan worker crashed'))),
    };
    signal?.addEventListener('abort', job.onAbort, { once: true });
    this.queues[laneOf(request)].push(job);
    this.dispatch();
  }

  private spawn(lane: Lane): Slot {
    // A small young generation: a worker's garbage is one batch of short-lived results, and the
    // default lets each thread's heap swell with the number of files scanned (bench/memory.ts).
    const writing = new Int32Array(new SharedArrayBuffer(4));
    const thread = new Worker(worker.url, {
      ...worker.options,
      workerData: { faults: this.options.faults, roots: this.options.roots ?? [], lane, writing: writing.buffer },
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GEN_MB },
    });
    const slot: Slot = { worker: thread, threadId: thread.threadId, writing, lane, job: null };
    thread.on('message', (msg: WorkerResponse) => {
      const job = slot.job;
      if (!job || msg.id !== job.id) return;
      if (!job.onMessage(msg)) return;
      slot.job = null;
      thread.unref();
      job.signal?.removeEventListener('abort', job.onAbort);
      this.dispatch();
    });
    thread.on('error', () => {
      // 'exit' follows; the job is handled there.
    });
    thread.on('exit', () => this.replace(slot));
    // An idle pool must not keep the process alive; a busy worker does (see dispatch).
    thread.unref();
    return slot;
  }

  private replace(slot: Slot): void {
    const idx = this.slots.indexOf(slot);
    if (idx < 0 || this.closed) return;
    const job = slot.job;
    slot.job = null;
    this.slots[idx] = this.spawn(slot.lane);
    if (job) releaseTurn(job, slot);
    if (job && !job.signal?.aborted) {
      job.signal?.removeEventListener('abort', job.onAbort);
      job.onCrash();
    }
    this.dispatch();
  }

  private abort(job: Job): void {
    const queue = this.queues[laneOf(job.request)];
    const q = queue.indexOf(job);
    if (q >= 0) queue.splice(q, 1);
    const slot = this.slots.find((s) => s.job === job);
    if (!slot) {
      job.reject(new AbortError());
      return;
    }
    // terminate() stops a thread even inside a blocking call; a fresh worker takes its place.
    slot.job = null;
    const idx = this.slots.indexOf(slot);
    this.slots[idx] = this.spawn(slot.lane);
    const old = slot.worker;
    old.removeAllListeners('exit');
    this.terminating.add(old);
    const gone = old.terminate().finally(() => {
      this.terminating.delete(old);
      releaseTurn(job, slot);
    });
    this.dispatch();
    // A thread that records rows itself may be committing a batch: the job settles once the
    // thread is gone, so that what is stored no longer changes after its caller hears of the
    // abort (a shutdown's checkpoint counts the stored rows). A thread stuck in a system call
    // gets a grace period, not a wait without end.
    void Promise.race([gone, new Promise((r) => setTimeout(r, ABORT_GRACE_MS).unref())])
      .catch(() => undefined)
      .then(() => job.reject(new AbortError()));
  }

  private settle(job: Job, err: unknown): void {
    job.signal?.removeEventListener('abort', job.onAbort);
    job.reject(err);
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      const queue = this.queues[slot.lane];
      // A job whose signal aborted (its own abort listener has yet to run) is not started.
      while (queue.length && queue[0]!.signal?.aborted) this.settle(queue.shift()!, new AbortError());
      if (slot.job || queue.length === 0) continue;
      const job = queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage({ ...job.request, id: job.id } as WorkerRequest);
    }
  }
}

const crashedResult = (rel: string): FileResult => blankResult(rel, { code: 'WORKER_CRASHED', detail: 'the scan worker crashed on this file' });
