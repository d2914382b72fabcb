import { Worker } from 'node:worker_threads';
import { workerModule } from '../worker-url.ts';
import type { ConvertRequest, ConvertResponse } from './convert-worker.ts';

const thread = workerModule(import.meta.url, 'convert-worker');

/** A conversion the thread refused: 404 (not a file under the root) or 415 (nothing to decode). */
export class ConversionRefused extends Error {
  override readonly name = 'ConversionRefused';
  constructor(
    readonly status: 404 | 415,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** As many conversions are open as the converter allows (`maxOpen`): the client should retry later. */
export class ConversionsBusy extends Error {
  override readonly name = 'ConversionsBusy';
  constructor(readonly maxOpen: number) {
    super(`${maxOpen} audio conversions are open`);
  }
}

/**
 * The main side of the conversion thread (convert-worker.ts), shared by every request: sample
 * crunching never runs on the event loop, and each conversion moves one chunk at a time, only
 * when its HTTP stream asks for more, so a slow client holds one chunk (~1 MB), whatever the
 * file's size. The thread starts on first use; if it dies, the conversions in flight end and
 * the next one starts a new thread.
 */
export class Pcm16Converter {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly handlers = new Map<number, (m: ConvertResponse) => void>();

  /** `maxOpen`: conversions open at once (each holds a descriptor until its client has read it all, or gone). */
  constructor(private readonly maxOpen = 64) {}

  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(thread.url, { ...thread.options, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    w.on('message', (m: ConvertResponse) => this.handlers.get(m.id)?.(m));
    // An uncaught error in the thread: 'exit' follows and fails the conversions in flight. Without
    // a listener, Node would rethrow it here and end the whole process.
    w.on('error', () => {});
    w.on('exit', () => {
      if (this.worker === w) this.worker = null;
      for (const h of [...this.handlers.values()]) h({ type: 'failed', id: -1, detail: 'the conversion thread stopped' });
      this.handlers.clear();
    });
    w.unref();
    return (this.worker = w);
  }

  private post(m: ConvertRequest): void {
    this.thread().postMessage(m);
  }

  /**
   * Opens `rel` under `root` for conversion: resolves with the output's size and its body, or
   * rejects with ConversionRefused, or ConversionsBusy when `maxOpen` are open.
   */
  open(root: string, rel: string): Promise<{ bytes: number; body: ReadableStream<Uint8Array> }> {
    if (this.handlers.size >= this.maxOpen) return Promise.reject(new ConversionsBusy(this.maxOpen));
    const id = this.nextId++;
    const w = this.thread();
    w.ref();
    return new Promise((resolve, reject) => {
      // The pull waiting for the thread's answer: a chunk, null at the end, or an Error.
      let pending: ((chunk: Uint8Array | null | Error) => void) | null = null;
      // How the conversion ended when no pull was waiting (the thread died between pulls): the
      // next pull settles with it instead of asking a thread that no longer knows this id.
      let ended: Error | null | undefined;
      let opened = false;
      const done = () => {
        this.handlers.delete(id);
        if (!this.handlers.size) w.unref();
      };
      this.handlers.set(id, (m) => {
        if (m.type === 'refused') {
          done();
          reject(new ConversionRefused(m.status, m.detail));
        } else if (m.type === 'opened') {
          opened = true;
          const body = new ReadableStream<Uint8Array>(
            {
              pull: (c) =>
                new Promise<void>((r) => {
                  if (ended !== undefined) {
                    if (ended) c.error(ended);
                    else c.close();
                    return r();
                  }
                  pending = (chunk) => {
                    pending = null;
                    if (chunk instanceof Error) {
                      // Short of the promised length: the response must fail, not end as if whole.
                      done();
                      c.error(chunk);
                    } else if (chunk) c.enqueue(chunk);
                    else {
                      done();
                      c.close();
                    }
                    r();
                  };
                  this.post({ type: 'next', id });
                }),
              cancel: () => {
                done();
                this.post({ type: 'close', id });
              },
            },
            { highWaterMark: 0 },
          );
          resolve({ bytes: m.bytes, body });
        } else if (m.type === 'chunk') {
          pending?.(new Uint8Array(m.data));
        } else {
          // The end; or a failed read or the thread's death, which fail the stream where it is.
          const failure = m.type === 'failed' ? new Error(m.detail) : null;
          if (pending) pending(failure);
          else {
            ended = failure;
            done();
          }
          if (!opened) reject(failure ?? new Error('the conversion thread stopped'));
        }
      });
      this.post({ type: 'open', id, root, rel });
    });
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
  }
}
