import { Worker } from 'node:worker_threads';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MAIN_TOKEN, mainWrite, threadTurn, TURN_STALE_MS } from '../../src/store/sqlite/write-gate.ts';
import { workerModule } from '../../src/worker-url.ts';

const turnWorker = workerModule(import.meta.url, 'turn-worker');

function start(gate: SharedArrayBuffer, mode: 'count' | 'die' | 'hammer' | 'hold', rounds = 0): Worker {
  const w = new Worker(turnWorker.url, { ...turnWorker.options, workerData: { gate, rounds, mode } });
  onTestFinished(async () => {
    await w.terminate();
  });
  return w;
}
const message = (w: Worker) =>
  new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });

/**
 * Thirty main-thread writes made with `write` while two scan threads record batch after batch
 * (turn-worker.ts 'hammer'): each write holds the turn, and the scan threads go on meanwhile.
 */
async function mainWritesAmidScanThreads(write: (fn: () => void, g: Int32Array) => unknown): Promise<void> {
  const gate = new SharedArrayBuffer(28);
  const g = new Int32Array(gate);
  const hammers = [start(gate, 'hammer'), start(gate, 'hammer')];
  await Promise.all(hammers.map(message));
  const writes = 30;
  for (let i = 0; i < writes; i++) {
    await write(() => expect(g[2]).toBe(MAIN_TOKEN), g);
    await new Promise((r) => setTimeout(r, 2));
  }
  Atomics.store(g, 5, 1);
  await Promise.all(hammers.map(message));
  expect(g[4]).toBeGreaterThan(writes); // the scan threads kept taking turns meanwhile
  // At most one turn per scan thread per write: one whose check came just before the write began
  // to wait. Without the priority, a thread giving its turn back took it again at once, and the
  // write waited out TURN_STALE_MS.
  expect(g[6]).toBeLessThanOrEqual(2 * writes);
  expect(g[3]).toBe(0);
}

// Scan threads take turns to record their rows (row-writer.ts) instead of sleeping in SQLite's busy handler.
describe('threadTurn (write-gate.ts)', () => {
  it('lets one thread at a time through', async () => {
    const gate = new SharedArrayBuffer(20);
    const workers = [start(gate, 'count', 1500), start(gate, 'count', 1500)];
    await Promise.all(workers.map(message));
    expect(new Int32Array(gate)[4]).toBe(3000);
    expect(new Int32Array(gate)[2]).toBe(0);
  });

  it('the main thread’s writes go first: while one waits, scan threads begin no turn but the one racing it', async () => {
    await mainWritesAmidScanThreads((fn, g) => threadTurn(fn, g, MAIN_TOKEN));
  });

  it('a turn is re-entrant: the thread that holds it runs at once', () => {
    const g = new Int32Array(new SharedArrayBuffer(16));
    const t0 = performance.now();
    expect(threadTurn(() => threadTurn(() => 'inner', g, MAIN_TOKEN), g, MAIN_TOKEN)).toBe('inner');
    expect(performance.now() - t0).toBeLessThan(TURN_STALE_MS / 2);
    expect(g[2]).toBe(0);
  });

  it('a thread terminated inside its turn holds the others up once, for TURN_STALE_MS, not for good', async () => {
    const gate = new SharedArrayBuffer(20);
    const holder = start(gate, 'die');
    await message(holder);
    await holder.terminate();
    const g = new Int32Array(gate);
    expect(g[2]).not.toBe(0); // the dead thread's turn is still taken
    const t0 = performance.now();
    expect(threadTurn(() => 'ran', g, -7)).toBe('ran');
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(TURN_STALE_MS - 5);
    expect(waited).toBeLessThan(TURN_STALE_MS + 1000);
    // Given back: the next turn is at once.
    expect(g[2]).toBe(0);
    const t1 = performance.now();
    threadTurn(() => undefined, g, -7);
    expect(performance.now() - t1).toBeLessThan(50);
  });
});

// The main thread's writes (the stores' connection) wait for their turn without stopping the event loop.
describe('mainWrite (write-gate.ts)', () => {
  it('with the turn free, runs the write at once, before it returns', async () => {
    const g = new Int32Array(new SharedArrayBuffer(16));
    let ran = false;
    const done = mainWrite(() => {
      ran = g[2] === MAIN_TOKEN;
      return 'ok';
    }, g);
    expect(ran).toBe(true);
    expect(await done).toBe('ok');
    expect(g[2]).toBe(0);
  });

  it('while a scan thread holds the turn, the event loop goes on; the writes run once it is free, in the order asked', async () => {
    const gate = new SharedArrayBuffer(16);
    const g = new Int32Array(gate);
    const holder = start(gate, 'hold', 150);
    await message(holder);
    const released = message(holder);
    const order: string[] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const t0 = performance.now();
    const writes = ['a', 'b', 'c'].map((k) => mainWrite(() => order.push(`${k}:${g[2] === MAIN_TOKEN ? 'turn' : 'no turn'}`), g));
    expect(order).toEqual([]);
    expect(g[3]).toBe(3); // all three wait, and scan threads begin no turn meanwhile
    await Promise.all(writes);
    clearInterval(timer);
    expect(await released).toBe('released');
    expect(order).toEqual(['a:turn', 'b:turn', 'c:turn']);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(100);
    // With threadTurn the thread would have stood still until the holder let go: no tick at all.
    expect(ticks).toBeGreaterThanOrEqual(5);
    expect([g[2], g[3]]).toEqual([0, 0]);
  });

  it('while one waits, scan threads begin no turn but the one racing it', async () => {
    await mainWritesAmidScanThreads(mainWrite);
  });

  it('a failed write gives the turn back and fails alone; a full database is StorageFullError', async () => {
    const g = new Int32Array(new SharedArrayBuffer(16));
    await expect(mainWrite(() => {
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    }, g)).rejects.toMatchObject({ name: 'StorageFullError' });
    await expect(mainWrite(() => {
      throw new Error('other');
    }, g)).rejects.toThrow('other');
    expect(await mainWrite(() => 'next', g)).toBe('next');
    expect([g[0], g[2], g[3]]).toEqual([0, 0, 0]);
  });
});
