const encoder = new TextEncoder();

/** Bytes a client may have queued before it counts as slow and misses intermediate progress. */
const SLOW_CLIENT_BYTES = 256 * 1024;

/**
 * One Server-Sent Events response body: a ReadableStream fed with `enqueue`, with no
 * TransformStream in between. With a thousand clients on a task, every event costs one enqueue
 * per client and nothing more (hono's streamSSE adds a writer, a transform and a second reader).
 */
export class SSEChannel {
  readonly body: ReadableStream<Uint8Array>;
  private controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  private done = false;
  private readonly abortListeners: (() => void)[] = [];

  constructor() {
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        cancel: () => {
          // The client went away (node-server cancels the body when the socket closes).
          this.done = true;
          for (const fn of this.abortListeners.splice(0)) fn();
        },
      },
      { highWaterMark: SLOW_CLIENT_BYTES, size: (chunk) => chunk.byteLength },
    );
  }

  /** True once the client has gone or the stream was closed. */
  get closed(): boolean {
    return this.done;
  }

  /** True when the client is not reading what it is sent as fast as it comes. */
  get slow(): boolean {
    return (this.controller?.desiredSize ?? 0) <= 0;
  }

  write(chunk: Uint8Array | string): void {
    if (this.done || !this.controller) return;
    this.controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.controller?.close();
  }

  onAbort(fn: () => void): void {
    if (this.done) fn();
    else this.abortListeners.push(fn);
  }
}
