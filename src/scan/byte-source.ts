import fs from 'node:fs';

/**
 * Random access to a file's bytes; reads return fewer bytes than asked at end of file. What a
 * read returns may be a view that stays valid only until the next read.
 */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
}

/** How much a header read outside the prefetched window reads ahead, for the chunk walk. */
const READ_AHEAD = 64 * 1024;

/** A ByteSource over bytes already in memory (tests, fuzzing). */
export class BufferSource implements ByteSource {
  constructor(private readonly bytes: Uint8Array) {}
  get size(): number {
    return this.bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    if (offset >= this.bytes.length || length <= 0) return new Uint8Array(0);
    return this.bytes.subarray(offset, Math.min(this.bytes.length, offset + length));
  }
}

/**
 * A ByteSource over an open file descriptor with one prefetched window. Sync reads on purpose:
 * this runs inside scan worker threads, where sync calls are 3–10× faster than the libuv pool
 * (shared/PERF-NOTES.md). The window buffer is owned by the caller and reused across files.
 */
export class FdSource implements ByteSource {
  private windowStart = 0;
  private windowLength = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly window: Buffer,
  ) {}

  /** Reads `length` bytes at `offset` into the window, so later small reads near it cost nothing. */
  prefetch(offset: number, length: number): Uint8Array {
    const want = Math.min(length, this.window.length, Math.max(0, this.size - offset));
    let got = 0;
    while (got < want) {
      const n = fs.readSync(this.fd, this.window, got, want - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    this.windowStart = offset;
    this.windowLength = got;
    return this.window.subarray(0, got);
  }

  /**
   * Bytes for sequential bulk reading (samples): a view of the window, refilled when needed.
   * The view is valid until the next prefetch or chunk call.
   */
  chunk(offset: number, length: number): Uint8Array {
    const end = Math.min(this.size, offset + length);
    if (offset >= this.windowStart && end <= this.windowStart + this.windowLength) {
      return this.window.subarray(offset - this.windowStart, end - this.windowStart);
    }
    return this.prefetch(offset, length);
  }

  read(offset: number, length: number): Uint8Array {
    if (length <= 0 || offset >= this.size) return new Uint8Array(0);
    const end = Math.min(this.size, offset + length);
    if (offset >= this.windowStart && end <= this.windowStart + this.windowLength) {
      return this.window.subarray(offset - this.windowStart, end - this.windowStart);
    }
    // Header structures are small (≤ 64 bytes): refill the window from here, so that a walk over
    // many small chunks costs one system call per window, not one per chunk.
    const got = this.prefetch(offset, Math.max(end - offset, Math.min(READ_AHEAD, this.window.length)));
    return got.subarray(0, end - offset);
  }
}
