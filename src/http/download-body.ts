import type { Sink } from '../export/types.ts';

const encoder = new TextEncoder();

/**
 * Bytes queued for a slow client before a write waits for it to read (backpressure). Exports
 * write 64 KiB chunks: at 64 KiB every chunk waited for the client (375k rows: Kaldi 65k rows/s),
 * at 256 KiB a few are in flight (71–74k, as hono's stream() before; NeMo 76–77k against 73–82k).
 */
const HIGH_WATER_BYTES = 256 * 1024;
/** A body nobody has started reading after this long has been dropped (hono answers HEAD so): stop writing. */
const CLAIM_TIMEOUT_MS = 5000;

/**
 * A download's response body, written by an export format (export/types.ts Sink): each write
 * resolves once the client has taken the bytes queued before it, and `fail` ends the body as a
 * broken transfer (node-server destroys the connection), never as a complete one.
 *
 * hono's `stream()` closed the body cleanly after an error: a Kaldi export whose temporary files
 * could not be written arrived as a 200 with 0 bytes, and curl exited 0 (stop 23).
 */
export class DownloadBody implements Sink {
  readonly body: ReadableStream<Uint8Array>;
  private controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  private ended = false;
  private cancelled = false;
  private wake: (() => void) | null = null;
  private claim: NodeJS.Timeout | null = null;

  constructor(private readonly claimTimeoutMs = CLAIM_TIMEOUT_MS) {
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => this.release(),
        cancel: () => {
          this.cancelled = true;
          this.release();
        },
      },
      { highWaterMark: HIGH_WATER_BYTES, size: (chunk) => chunk.byteLength },
    );
  }

  /** The client went away (or never came: see `handedOut`): the format stops writing. */
  get aborted(): boolean {
    return this.cancelled;
  }

  /** The client is gone before the body was handed out (its request was aborted). */
  cancel(): void {
    this.cancelled = true;
    this.release();
  }

  async write(chunk: string | Uint8Array): Promise<void> {
    if (this.ended || this.cancelled || !this.controller) return;
    this.controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
    while (!this.cancelled && !this.ended && (this.controller.desiredSize ?? 0) <= 0) await new Promise<void>((resolve) => (this.wake = resolve));
  }

  /**
   * The body is in a Response now: if no reader has taken it within the claim timeout (a HEAD
   * request, whose body hono drops without cancelling it), the download counts as aborted.
   */
  handedOut(): void {
    this.claim = setTimeout(() => {
      if (!this.body.locked) {
        this.cancelled = true;
        this.release();
      }
    }, this.claimTimeoutMs);
    this.claim.unref();
  }

  /** Every byte is written: the body ends as a complete one. */
  close(): void {
    if (this.end()) this.controller?.close();
  }

  /** The download failed half-way: the body ends as a broken transfer. */
  fail(err: Error): void {
    if (this.end()) this.controller?.error(err);
  }

  private end(): boolean {
    if (this.claim) clearTimeout(this.claim);
    if (this.ended) return false;
    this.ended = true;
    this.release();
    return !this.cancelled;
  }

  private release(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
