import { Worker } from 'node:worker_threads';
import { blankResult } from './analyze-file.ts';
import type { Analysis, BatchRequest, BatchResponse, DiscoveredFile, FileResult, WorkerFaults } from './types.ts';

const WORKER_YOUNG_GEN_MB = 4;

/** Raised for batches whose signal aborted before or while they ran. */
export class AbortError extends Error {
  override readonly name = 'AbortError';
  constructor() {
    super('The operation was aborted');
  }
}

interface Job {
  id: number;
  root: string;
  analysis: Analysis;
  files: DiscoveredFile[];
  signal: AbortSignal | undefined;
  resolve: (r: FileResult[]) => void;
  reject: (e: unknown) => void;
  onAbort: () => void;
  /** A batch that crashed its worker is retried file by file to find the culprit. */
  retry: boolean;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

// From TypeScript sources (tsx, vitest) workers start through a JS bootstrap that registers tsx.
const workerUrl = import.meta.url.endsWith('.ts') ? new URL('./worker-entry.mjs', import.meta.url) : new URL('./worker.js', import.meta.url);

/**
 * A fixed pool of scan worker threads shared by all tasks. Files go in batches (one message per
 * file costs more than the file). An abort drops a task's queued batches and replaces any worker
 * busy with one, so cancellation frees the threads at once; a crashed worker is replaced too.
 */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    readonly size: number,
    private readonly options: { faults?: WorkerFaults } = {},
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  /** Scans `files` under `root` in one worker; rejects with AbortError when `signal` aborts. */
  run(root: string, analysis: Analysis, files: DiscoveredFile[], signal?: AbortSignal): Promise<FileResult[]> {
    if (this.closed) return Promise.reject(new Error('worker pool is closed'));
    if (signal?.aborted) return Promise.reject(new AbortError());
    return new Promise((resolve, reject) => {
      const job: Job = { id: this.nextId++, root, analysis, files, signal, resolve, reject, onAbort: () => this.abort(job), retry: false };
      signal?.addEventListener('abort', job.onAbort, { once: true });
      this.queue.push(job);
      this.dispatch();
    });
  }

  /** Workers currently running a batch (for tests and metrics). */
  get busy(): number {
    return this.slots.filter((s) => s.job).length;
  }

  get queued(): number {
    return this.queue.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.settle(job, new Error('worker pool closed'));
    await Promise.all(
      this.slots.map(async (s) => {
        if (s.job) this.settle(s.job, new Error('worker pool closed'));
        s.job = null;
        await s.worker.terminate();
      }),
    );
  }

  private spawn(): Slot {
    // A small young generation: a worker's garbage is one batch of short-lived results, and the
    // default lets each thread's heap swell with the number of files scanned (bench/memory.ts).
    const worker = new Worker(workerUrl, { workerData: { faults: this.options.faults }, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GEN_MB } });
    const slot: Slot = { worker, job: null };
    worker.on('message', (msg: BatchResponse) => {
      const job = slot.job;
      if (!job || msg.id !== job.id) return;
      slot.job = null;
      worker.unref();
      job.signal?.removeEventListener('abort', job.onAbort);
      job.resolve(msg.results);
      this.dispatch();
    });
    worker.on('error', () => {
      // 'exit' follows; the job is handled there.
    });
    worker.on('exit', () => this.replace(slot));
    // An idle pool must not keep the process alive; a busy worker does (see dispatch).
    worker.unref();
    return slot;
  }

  private replace(slot: Slot): void {
    const idx = this.slots.indexOf(slot);
    if (idx < 0 || this.closed) return;
    const job = slot.job;
    slot.job = null;
    this.slots[idx] = this.spawn();
    if (job && !job.signal?.aborted) this.recover(job);
    this.dispatch();
  }

  // Retry a crashed batch one file at a time; a single file that crashes a worker gets an error.
  private recover(job: Job): void {
    if (job.retry || job.files.length === 1) {
      job.signal?.removeEventListener('abort', job.onAbort);
      job.resolve(job.files.map((f) => crashedResult(f.rel)));
      return;
    }
    job.signal?.removeEventListener('abort', job.onAbort);
    Promise.all(
      job.files.map(
        (file) =>
          new Promise<FileResult[]>((resolve, reject) => {
            const single: Job = { ...job, id: this.nextId++, files: [file], resolve, reject, retry: true, onAbort: () => this.abort(single) };
            job.signal?.addEventListener('abort', single.onAbort, { once: true });
            this.queue.unshift(single);
          }),
      ),
    ).then((parts) => job.resolve(parts.flat()), job.reject);
  }

  private abort(job: Job): void {
    const q = this.queue.indexOf(job);
    if (q >= 0) this.queue.splice(q, 1);
    const slot = this.slots.find((s) => s.job === job);
    if (slot) {
      slot.job = null;
      const idx = this.slots.indexOf(slot);
      this.slots[idx] = this.spawn();
      slot.worker.removeAllListeners('exit');
      void slot.worker.terminate();
    }
    job.reject(new AbortError());
    this.dispatch();
  }

  private settle(job: Job, err: unknown): void {
    job.signal?.removeEventListener('abort', job.onAbort);
    job.reject(err);
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      const req: BatchRequest = { type: 'batch', id: job.id, root: job.root, analysis: job.analysis, files: job.files };
      slot.worker.postMessage(req);
    }
  }
}

const crashedResult = (rel: string): FileResult => blankResult(rel, { code: 'WORKER_CRASHED', detail: 'the scan worker crashed on this file' });
