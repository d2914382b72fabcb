import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import type { Sink } from './types.ts';

/**
 * Multi-file formats (Lhotse, Kaldi) come as a tar. A tar header holds its member's size, so each
 * member is first written to a temporary file (gzipped on the way when its name says so) and the
 * archive is then streamed from those files: memory stays flat whatever the task's size, the disk
 * holds one copy of the download for as long as it lasts.
 */

export interface SpooledMember {
  /** The name in the archive. */
  name: string;
  file: string;
  size: number;
}

/**
 * A member being written to its temporary file. A write error (a full disk) rejects the write or
 * end under way and every one after it: unlistened, it was thrown as an uncaught 'error' event and
 * ended the process (stop 23). `destroy` closes the file whatever state it is in; a format calls
 * it however it ends, so that a download dropped half-way leaves no descriptor open.
 */
export class SpoolWriter {
  private readonly head: Writable;
  private readonly tail: fs.WriteStream;
  private failed: Error | null = null;

  constructor(
    private readonly name: string,
    private readonly file: string,
  ) {
    this.tail = fs.createWriteStream(file, { flags: 'wx', mode: 0o600 });
    this.tail.on('error', (err) => this.fail(err));
    if (name.endsWith('.gz')) {
      const gzip = zlib.createGzip();
      gzip.pipe(this.tail);
      gzip.on('error', (err) => this.fail(err));
      this.head = gzip;
    } else this.head = this.tail;
  }

  /** Resolves once the chunk is buffered below the stream's mark (disk backpressure). */
  async write(chunk: string): Promise<void> {
    if (this.failed) throw this.failed;
    // once() rejects on 'error' too: a gzip head is destroyed with its file's error (fail).
    if (!this.head.write(chunk)) await once(this.head, 'drain');
  }

  async end(): Promise<SpooledMember> {
    if (this.failed) throw this.failed;
    this.head.end();
    await finished(this.tail);
    if (this.failed) throw this.failed;
    return { name: this.name, file: this.file, size: (await fs.promises.stat(this.file)).size };
  }

  destroy(): void {
    this.head.destroy();
    this.tail.destroy();
  }

  private fail(err: Error): void {
    this.failed ??= err;
    this.head.destroy(this.failed);
    this.tail.destroy();
  }
}

/** Destroys every writer: a format's `finally`. */
export const destroyAll = (writers: SpoolWriter[]): void => writers.forEach((w) => w.destroy());

export const spool = (dir: string, name: string): SpoolWriter => new SpoolWriter(name, path.join(dir, name.replace(/[^\w.-]/g, '_')));

type Entry = ReturnType<ReturnType<typeof tar.pack>['entry']>;

/** Resolves when the entry can take more, or has been destroyed (the download was dropped). */
const drained = (entry: Entry): Promise<void> =>
  new Promise((resolve) => {
    const e = entry as unknown as NodeJS.EventEmitter;
    const done = () => {
      e.off('drain', done);
      e.off('close', done);
      resolve();
    };
    e.on('drain', done);
    e.on('close', done);
  });

/** Copies a spooled file into its tar entry, waiting on the entry's backpressure. */
async function fill(entry: Entry, file: string): Promise<void> {
  const rs = fs.createReadStream(file, { highWaterMark: 64 * 1024 });
  try {
    for await (const chunk of rs) {
      if (entry.destroyed) return;
      if (!entry.write(chunk as Buffer)) await drained(entry);
    }
    if (!entry.destroyed) (entry as unknown as { end(): void }).end();
  } finally {
    rs.destroy();
  }
}

/** Streams a tar of the spooled members to the sink, one 64 KiB read at a time. */
export async function writeTar(members: SpooledMember[], out: Sink): Promise<void> {
  const pack = tar.pack();
  const mtime = new Date();
  const produce = (async () => {
    for (const m of members) {
      let entry!: Entry;
      const added = new Promise<void>((resolve, reject) => {
        entry = pack.entry({ name: m.name, size: m.size, mode: 0o644, mtime }, (err) => (err ? reject(err) : resolve()));
      });
      await Promise.all([fill(entry, m.file), added]);
    }
    pack.finalize();
  })();
  // A failure on the way (a spooled file gone) ends the archive stream with the error.
  produce.catch((err: unknown) => pack.destroy(err as Error));
  try {
    for await (const chunk of pack as AsyncIterable<Buffer>) {
      if (out.aborted) break;
      await out.write(chunk);
    }
  } finally {
    pack.destroy();
    await produce.catch(() => {});
  }
}
