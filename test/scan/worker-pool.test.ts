import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DiscoveredFile } from '../../src/scan/types.ts';
import { AbortError, WorkerPool, type BatchOutcome } from '../../src/scan/worker-pool.ts';
import { tempDir } from '../helpers/libritts-tree.ts';
import { packedFolders } from '../helpers/packed-folders.ts';
import { toneWav } from '../helpers/wav.ts';

const pools: WorkerPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});
const newPool = (size = 2, faults?: { crashOn?: string }) => {
  const p = new WorkerPool(size, { faults });
  pools.push(p);
  return p;
};
const files = (...rels: string[]): DiscoveredFile[] => rels.map((rel) => ({ rel, link: false }));

/** The rows of a batch scanned without a row target: all come back to the caller. */
const rowsOf = async (batch: Promise<BatchOutcome>) => (await batch).rows;

function dirWith(names: string[]): string {
  const dir = tempDir('vl-pool-');
  for (const n of names) fs.writeFileSync(path.join(dir, n), toneWav({ durationS: 0.05 }));
  return dir;
}

describe('WorkerPool: faults between discovery and reading', () => {
  it('a file deleted after discovery is a READ_ERROR, the rest of the batch is fine', async () => {
    const dir = dirWith(['a.wav', 'b.wav', 'c.wav']);
    fs.unlinkSync(path.join(dir, 'b.wav'));
    const r = await rowsOf(newPool().run(dir, 'full', files('a.wav', 'b.wav', 'c.wav')));
    expect(r.map((x) => x.error?.code ?? 'ok')).toEqual(['ok', 'READ_ERROR', 'ok']);
    expect(r[1]!.error!.detail).toBe('cannot read file (ENOENT)');
  });

  it('a file truncated after discovery reports the frames present and TRUNCATED', async () => {
    const dir = dirWith(['t.wav']);
    fs.truncateSync(path.join(dir, 't.wav'), 1044);
    const [r] = await rowsOf(newPool().run(dir, 'full', files('t.wav')));
    expect(r).toMatchObject({ frames: 500, error: { code: 'TRUNCATED' } });
    expect(r!.peak_dbfs).not.toBeNull();
  });

  it('a directory that errors (replaced by a file) and a FIFO that would block are READ_ERRORs, at once', async () => {
    const dir = dirWith([]);
    fs.writeFileSync(path.join(dir, 'sub'), 'not a directory');
    execFileSync('mkfifo', [path.join(dir, 'pipe.wav')]);
    const started = performance.now();
    const r = await rowsOf(newPool().run(dir, 'header', files('sub/x.wav', 'pipe.wav')));
    expect(r.map((x) => x.error?.code)).toEqual(['READ_ERROR', 'READ_ERROR']);
    expect(r[0]!.error!.detail).toBe('cannot read file (ENOTDIR)');
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('a file swapped for a symlink after discovery is not followed', async () => {
    const dir = dirWith([]);
    fs.symlinkSync('/etc/passwd', path.join(dir, 'swap.wav'));
    const [r] = await rowsOf(newPool().run(dir, 'header', files('swap.wav'))); // discovered as a plain file
    expect(r!.error).toEqual({ code: 'READ_ERROR', detail: 'cannot read file (ELOOP)' });
  });
});

describe('WorkerPool: crashes and aborts', () => {
  it('a worker that crashes on a file is replaced; that file gets WORKER_CRASHED, its batch-mates are scanned', async () => {
    const dir = dirWith(['a.wav', 'crash-me.wav', 'c.wav', 'd.wav']);
    const pool = newPool(2, { crashOn: 'crash-me.wav' });
    const r = await rowsOf(pool.run(dir, 'full', files('a.wav', 'crash-me.wav', 'c.wav', 'd.wav')));
    expect(r.map((x) => [x.path, x.error?.code ?? 'ok'])).toEqual([
      ['a.wav', 'ok'],
      ['crash-me.wav', 'WORKER_CRASHED'],
      ['c.wav', 'ok'],
      ['d.wav', 'ok'],
    ]);
    // The pool is whole again and keeps working.
    const again = await Promise.all([rowsOf(pool.run(dir, 'header', files('a.wav'))), rowsOf(pool.run(dir, 'header', files('c.wav')))]);
    expect(again.flat().every((x) => x.error === null)).toBe(true);
    expect(pool.busy).toBe(0);
  });

  it('a crash inside a folder the walk packed: that file alone gets WORKER_CRASHED, the rest of its folder is scanned', async () => {
    const dir = dirWith(['a.wav', 'crash-me.wav', 'c.wav', 'd.wav', 'e.wav']);
    const pool = newPool(2, { crashOn: 'crash-me.wav' });
    const packed = packedFolders(dir, { max: 3 });
    expect(packed.map((f) => f.count)).toEqual([3, 2]);
    const r = await rowsOf(pool.run(dir, 'header', packed));
    expect(r.map((x) => [x.path, x.error?.code ?? 'ok'])).toEqual([
      ['a.wav', 'ok'],
      ['c.wav', 'ok'],
      ['crash-me.wav', 'WORKER_CRASHED'],
      ['d.wav', 'ok'],
      ['e.wav', 'ok'],
    ]);
  });

  it('an abort rejects queued and running batches at once and frees the threads', async () => {
    const dir = dirWith(Array.from({ length: 40 }, (_, i) => `f${i}.wav`));
    const pool = newPool(1);
    const ctl = new AbortController();
    const many = Array.from({ length: 40 }, (_, i) => `f${i}.wav`);
    const running = pool.run(dir, 'full', files(...many), ctl.signal);
    const queued = pool.run(dir, 'full', files(...many), ctl.signal);
    ctl.abort();
    // The running batch settles once its thread is gone (it may have been recording rows).
    await Promise.all([expect(running).rejects.toBeInstanceOf(AbortError), expect(queued).rejects.toBeInstanceOf(AbortError)]);
    expect(pool.busy).toBe(0);
    expect(pool.queued).toBe(0);
    const after = await rowsOf(pool.run(dir, 'header', files('f1.wav')));
    expect(after[0]!.error).toBeNull();
  });
});
