const encoder = new TextEncoder();

/** Bytes a client may have queued before it counts as slow and misses intermediate progress. */
const SLOW_CLIENT_BYTES = 256 * 1024;
/** A body nobody has started reading after this long has been dropped (see `claim`). */
const CLAIM_TIMEOUT_MS = 5000;

/**
 * One Server-Sent Events response body: a ReadableStream fed with `enqueue`, with no
 * TransformStream in between. With a thousand clients on a task, every event costs one enqueue
 * per client and nothing more (hono's streamSSE adds a writer, a transform and a second reader).
 *
 * Whatever happens to the body, the channel ends and its abort listeners run, so the slot,
 * listener and timer a stream holds are released by construction:
 * - read to the end, or closed by the server: `close()`;
 * - the client goes away: node-server cancels the body;
 * - nobody ever reads it (hono answers HEAD by dropping a GET's body without cancelling it; a
 *   middleware could swap the response): no reader has locked it after CLAIM_TIMEOUT_MS.
 */
export class SSEChannel {
  readonly body: ReadableStream<Uint8Array>;
  private controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  private done = false;
  private readonly abortListeners: (() => void)[] = [];
  private readonly claim: NodeJS.Timeout;

  constructor(claimTimeoutMs = CLAIM_TIMEOUT_MS) {
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        cancel: () => this.abort(),
      },
      // High-water mark 0: `desiredSize` is minus the bytes the client has not read yet.
      { highWaterMark: 0, size: (chunk) => chunk.byteLength },
    );
    this.claim = setTimeout(() => {
      if (!this.body.locked) {
        this.abort();
        this.controller?.close();
      }
    }, claimTimeoutMs);
    this.claim.unref();
  }

  /** True once the client has gone or the stream was closed. */
  get closed(): boolean {
    return this.done;
  }

  /** True when the client is not reading what it is sent as fast as it comes. */
  get slow(): boolean {
    return -(this.controller?.desiredSize ?? 0) >= SLOW_CLIENT_BYTES;
  }

  write(chunk: Uint8Array | string): void {
    if (this.done || !this.controller) return;
    this.controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.claim);
    this.controller?.close();
  }

  onAbort(fn: () => void): void {
    if (this.done) fn();
    else this.abortListeners.push(fn);
  }

  private abort(): void {
    // The client went away, or never came.
    clearTimeout(this.claim);
    this.done = true;
    for (const fn of this.abortListeners.splice(0)) fn();
  }
}
