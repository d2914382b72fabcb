import { Worker } from 'node:worker_threads';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MAIN_TOKEN, threadTurn, TURN_STALE_MS } from '../../src/store/sqlite/write-gate.ts';
import { workerModule } from '../../src/worker-url.ts';

const turnWorker = workerModule(import.meta.url, 'turn-worker');

function start(gate: SharedArrayBuffer, mode: 'count' | 'die' | 'hammer', rounds = 0): Worker {
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
    const gate = new SharedArrayBuffer(28);
    const g = new Int32Array(gate);
    const hammers = [start(gate, 'hammer'), start(gate, 'hammer')];
    await Promise.all(hammers.map(message));
    const writes = 30;
    for (let i = 0; i < writes; i++) {
      threadTurn(() => expect(g[2]).toBe(MAIN_TOKEN), g, MAIN_TOKEN);
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
