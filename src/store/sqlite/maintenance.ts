import { Worker } from 'node:worker_threads';
import { workerModule } from '../../worker-url.ts';
import { WRITE_GATE } from './write-gate.ts';

const thread = workerModule(import.meta.url, 'maintenance-worker');

/**
 * The main side of the maintenance thread (maintenance-worker.ts): WAL checkpoints every
 * `intervalMs`, and the catalog indexer that follows the rows recorded once writing pauses. A query that
 * filters or sorts asks it to catch up first, and waits without blocking the event loop.
 */
export class Maintenance {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private failed: Error | null = null;

  constructor(file: string, intervalMs = 500) {
    this.worker = new Worker(thread.url, {
      ...thread.options,
      workerData: { file, checkpointMs: intervalMs, gate: WRITE_GATE.buffer },
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    this.worker.unref();
    this.worker.on('message', (m: { type: string; id?: number; error?: string | null }) => {
      if (m.type !== 'caught-up' || m.id === undefined) return;
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.error) w?.reject(new Error(`catalog indexing failed: ${m.error}`));
      else w?.resolve();
    });
    this.worker.on('error', (err) => {
      // Without it the WAL grows until the main connection closes, and searches fail; nothing is lost.
      this.failed = err;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    });
  }

  /** Resolves once every row recorded so far is in the catalog. */
  catchUp(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    this.worker.ref();
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'catch-up', id });
    }).finally(() => {
      if (this.waiting.size === 0) this.worker.unref();
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      this.worker.once('message', (m: { type: string }) => m.type === 'closed' && resolve());
      this.worker.once('exit', () => resolve());
    });
    this.worker.postMessage({ type: 'close' });
    await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
    await this.worker.terminate();
  }
}
