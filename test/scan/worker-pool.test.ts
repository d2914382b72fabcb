import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import type { DiscoveredFile, WorkerFaults } from '../../src/scan/types.ts';
import { openSqliteStores } from '../../src/store/sqlite/index.ts';
import { MAIN_TOKEN, threadTurn, TURN_STALE_MS } from '../../src/store/sqlite/write-gate.ts';
import { AbortError, WorkerPool, type BatchOutcome } from '../../src/scan/worker-pool.ts';
import { tempDir } from '../helpers/libritts-tree.ts';
import { packedFolders } from '../helpers/packed-folders.ts';
import { toneWav } from '../helpers/wav.ts';

const pools: WorkerPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});
const newPool = (size = 2, faults?: WorkerFaults) => {
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

/** Scheduling policy (5: SCHED_IDLE) and nice value of each thread of this process (proc(5) stat fields 41 and 19). */
function threads(): { tid: number; policy: number; nice: number }[] {
  return fs.readdirSync('/proc/self/task').map((t) => {
    const f = fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return { tid: Number(t), policy: Number(f[38]), nice: Number(f[16]) };
  });
}

describe('WorkerPool: the threads yield the CPU to the event loop', () => {
  it('reading and listing threads run under SCHED_IDLE, the main thread as it was', async () => {
    const earlier = new Set(threads().map((t) => t.tid));
    const before = threads().find((t) => t.tid === process.pid)!;
    const pool = newPool(2);
    const dir = dirWith(['a.wav', 'b.wav', 'c.wav', 'd.wav']);
    const walked: unknown[] = [];
    await Promise.all([
      rowsOf(pool.run(dir, 'header', files('a.wav', 'b.wav'))),
      rowsOf(pool.run(dir, 'header', files('c.wav', 'd.wav'))),
      pool.walk(dir, { dirs: [''], recursive: true }, (f) => walked.push(...f)),
    ]);
    expect(walked.length).toBeGreaterThan(0);
    // The pool's own threads: those that did not exist before it (a thread of an earlier test may still be ending).
    const now = threads().filter((t) => !earlier.has(t.tid));
    // A waking event loop takes the CPU from an idle-policy thread at once (native/scan-io.c idleThread).
    expect(now.filter((t) => t.policy === 5)).toHaveLength(3);
    expect(now.filter((t) => t.nice === 10 || t.nice === 5)).toEqual([]);
    expect(threads().find((t) => t.tid === process.pid)).toEqual(before);
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

  it('a thread that dies inside its turn to record rows: the turn and its count among the writers are given back at once, the next writer does not wait for it', async () => {
    const dir = dirWith(['a.wav', 'die.wav', 'c.wav']);
    const file = path.join(tempDir('vl-turn-'), 'v.db');
    const stores = openSqliteStores(file);
    onTestFinished(() => stores.close());
    const gate = new SharedArrayBuffer(16);
    const g = new Int32Array(gate);
    const target = { db: file, task: 1, gate };
    const pool = newPool(2, { inTurn: { on: 'die.wav', then: 'exit' } });
    // Alone in its batch: no other thread takes a turn after it, so nothing but the pool gives the turn back.
    const died = await pool.run(dir, 'header', files('die.wav'), undefined, target);
    expect(died.rows.map((r) => [r.path, r.error?.code])).toEqual([['die.wav', 'WORKER_CRASHED']]);
    expect(g[2]).toBe(0); // no dead thread's token left in the turn
    expect(g[0]).toBe(0); // nor its write in the count the catalog's indexer gives way to
    const t0 = performance.now();
    threadTurn(() => undefined, g, MAIN_TOKEN);
    expect(performance.now() - t0).toBeLessThan(TURN_STALE_MS / 2);
    const ok = await pool.run(dir, 'header', files('a.wav', 'c.wav'), undefined, target);
    expect(ok.written.reduce((n, w) => n + w.rows, 0)).toBe(2);
    expect(stores.database.db.prepare('SELECT path FROM results WHERE task = 1 ORDER BY path').pluck().all()).toEqual(['a.wav', 'c.wav']);
  });

  it('a thread cancelled inside its turn to record rows: the turn, and its count among the writers, are given back once it is gone', async () => {
    const dir = dirWith(['hang.wav']);
    const file = path.join(tempDir('vl-turn-'), 'v.db');
    const stores = openSqliteStores(file);
    onTestFinished(() => stores.close());
    const gate = new SharedArrayBuffer(16);
    const g = new Int32Array(gate);
    const pool = newPool(1, { inTurn: { on: 'hang.wav', then: 'hang' } });
    const ac = new AbortController();
    const run = pool.run(dir, 'header', files('hang.wav'), ac.signal, { db: file, task: 1, gate });
    for (const t = Date.now(); g[2] === 0;) {
      expect(Date.now() - t).toBeLessThan(10_000);
      await new Promise((r) => setTimeout(r, 5));
    }
    ac.abort();
    await expect(run).rejects.toBeInstanceOf(AbortError);
    expect(g[2]).toBe(0);
    expect(g[0]).toBe(0);
    const t0 = performance.now();
    threadTurn(() => undefined, g, MAIN_TOKEN);
    expect(performance.now() - t0).toBeLessThan(TURN_STALE_MS / 2);
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
