import { isMainThread } from 'node:worker_threads';
import { StorageFullError } from '../types.ts';

/**
 * Shared with the maintenance thread and the scan threads. [0]: writers of this process waiting for or holding the
 * write lock; its indexer starts no transaction while it is above 0. SQLite's busy handler alone
 * let the indexer, which starts its next transaction the instant it commits, starve the main
 * thread's inserts past the busy timeout (SQLITE_BUSY while 375k rows were written and indexed).
 * [1]: writes so far; the indexer works in the background only once it stops moving (a scan's
 * inserts waited in SQLite's busy handler — which sleeps 1, 2, 5, 10… ms between tries — behind
 * the indexer's transactions: 0.23 s of a 0.53 s full scan, on the event loop).
 */
export const WRITE_GATE = new Int32Array(new SharedArrayBuffer(16));

/** [2]: the token of the thread whose turn it is to write, 0 when none holds it (see threadTurn). */
const THREAD_TURN = 2;
/** [3]: the main thread's writes waiting for a turn; scan threads let them go first (threadTurn). */
const MAIN_WAITING = 3;
/** The main thread's token for threadTurn (a worker's is its threadId, ≥ 1). */
export const MAIN_TOKEN = -2;

/**
 * How long a turn may be held before another thread takes it over: far past any batch's commit
 * (~4 ms for 512 header rows), and what a thread terminated inside its turn (a cancel) costs the
 * next one, once. A turn only spares SQLite's busy handler its sleeps; SQLite's lock still orders
 * the commits, so a turn taken from a thread that was only slow changes nothing stored.
 */
export const TURN_STALE_MS = 250;

/**
 * Runs `fn` while no other thread of this process holds the turn to write (`token`: this
 * thread's own, not 0). Scan threads take turns here rather than in SQLite's busy handler, which
 * sleeps 1, 2, 5, 10… ms between tries: a thread waited 3–8 ms for a commit that had 1–2 ms left
 * (a 5,000-file header scan's readers lost ~40 ms each so). Atomics.wait wakes the waiting threads
 * as the turn is given back.
 *
 * The main thread's writes (mainWrite below) take turns too, and go first: while one waits, scan
 * threads do not take the turn. In SQLite's busy handler it slept while the two reading threads
 * handed the lock to each other: during warm header scans 16 of its 52 writes waited over 1 ms,
 * up to 8.8 ms, with the event loop (every request) held up meanwhile. Now it waits at most for the
 * commit under way, and without blocking. Re-entrant: a thread that holds the turn runs `fn` at once.
 */
export function threadTurn<T>(fn: () => T, gate: Int32Array, token: number): T {
  if (Atomics.load(gate, THREAD_TURN) === token) return fn();
  const main = token === MAIN_TOKEN;
  const since = performance.now();
  if (main) Atomics.add(gate, MAIN_WAITING, 1);
  try {
    for (;;) {
      const stale = performance.now() - since >= TURN_STALE_MS;
      if (!main && !stale) {
        const waiting = Atomics.load(gate, MAIN_WAITING);
        if (waiting > 0) {
          Atomics.wait(gate, MAIN_WAITING, waiting, 10);
          continue;
        }
      }
      const owner = Atomics.compareExchange(gate, THREAD_TURN, 0, token);
      if (owner === 0) break;
      if (stale) {
        if (Atomics.compareExchange(gate, THREAD_TURN, owner, token) === owner) break;
        continue;
      }
      Atomics.wait(gate, THREAD_TURN, owner, 10);
    }
  } finally {
    if (main && Atomics.sub(gate, MAIN_WAITING, 1) === 1) Atomics.notify(gate, MAIN_WAITING);
  }
  try {
    return fn();
  } finally {
    // Every waiter wakes (three threads at most): the main thread among them must not sleep on.
    if (Atomics.compareExchange(gate, THREAD_TURN, token, 0) === token) Atomics.notify(gate, THREAD_TURN);
  }
}

/**
 * Gives back the turn a thread held when it died (terminated by a cancel, or crashed, inside its
 * turn: `token`, its threadId), so that no writer, the main thread's included, waits out
 * TURN_STALE_MS for it. Call only once the thread is gone (its connection closed with it).
 */
export function releaseTurnOf(gate: Int32Array, token: number): void {
  if (Atomics.compareExchange(gate, THREAD_TURN, token, 0) === token) Atomics.notify(gate, THREAD_TURN);
}

/**
 * Counts a write as waiting or under way in `gate` (this process's WRITE_GATE, or the same
 * memory seen from a scan thread: row-writer.ts) until the returned function is called. Only the
 * write itself: a gate held while a batch is read would keep a filtered query's catch-up
 * (catalog-indexer.ts giveWay) waiting for the whole scan.
 */
function beginWrite(gate: Int32Array, own?: Int32Array): () => void {
  // `own` first and last: a thread terminated in between leaves its count one short, not one over.
  if (own) Atomics.add(own, 0, 1);
  Atomics.add(gate, 0, 1);
  Atomics.add(gate, 1, 1);
  return () => {
    // Never below 0: a thread terminated between its two additions had its own count taken out of
    // the gate by releaseWritesOf, from another writer's share, which then must not go negative.
    if (decrementToZero(gate) === 0) Atomics.notify(gate, 0);
    if (own) Atomics.sub(own, 0, 1);
  };
}

/** Takes 1 from gate[0] unless it is 0 already; returns the value left. */
function decrementToZero(gate: Int32Array): number {
  for (let v = Atomics.load(gate, 0); v > 0; v = Atomics.load(gate, 0)) if (Atomics.compareExchange(gate, 0, v, v - 1) === v) return v - 1;
  return 0;
}

/**
 * Takes out of `gate[0]` the writes a scan thread had under way when it died (`own`: its count,
 * kept in memory its pool holds; see write). A thread terminated inside a write (a cancel) never
 * runs its `finally`: its count stayed in gate[0] for good, the catalog's indexer then gave way
 * forever, and every filtered or sorted page waited with no end (stop 23). Never below 0. Call
 * only once the thread is gone.
 */
export function releaseWritesOf(gate: Int32Array, own: Int32Array): void {
  for (let n = Atomics.exchange(own, 0, 0); n > 0; n--) decrementToZero(gate);
  Atomics.notify(gate, 0);
}

/** SQLite's own "disk full" as the store-neutral StorageFullError; anything else as it is. */
function storeError(err: unknown): unknown {
  return (err as { code?: string }).code === 'SQLITE_FULL' ? new StorageFullError('The database is full; results recorded so far are kept') : err;
}

/**
 * A scan thread's write (row-writer.ts, which takes its turn inside `fn`), counted in `gate` (see
 * beginWrite) and in the thread's own count `own` (see releaseWritesOf), turning SQLite's own "disk full" into the store-neutral StorageFullError. The main
 * thread writes with mainWrite, which never blocks its event loop.
 */
export function write<T>(fn: () => T, gate: Int32Array, own?: Int32Array): T {
  if (isMainThread) throw new Error('write() blocks: the main thread writes with mainWrite()');
  const done = beginWrite(gate, own);
  try {
    return fn();
  } catch (err) {
    throw storeError(err);
  } finally {
    done();
  }
}

/** Atomics.waitAsync (V8, Node 16+), which TypeScript's ES2022 library does not declare. */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, ms: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

/** Per gate, the main thread's writes waiting for a turn (mainWrite): the last one, which the next waits for, and how many. */
const mainQueues = new WeakMap<SharedArrayBuffer | ArrayBuffer, { tail: Promise<void>; queued: number }>();

/**
 * The main thread's write: `fn` in the main thread's turn (MAIN_TOKEN), counted in `gate` like a
 * scan thread's, but the turn is waited for without blocking the event loop (Atomics.waitAsync).
 * Waited for in threadTurn (Atomics.wait), the event loop stopped while a scan thread committed: with two full scans running and a flood of POSTs, the
 * main thread waited there 27 times over 1 ms in a 2,000-POST run, up to 4.2 ms, every request
 * held up meanwhile. The main thread's writes still go first (scan threads begin no turn while
 * one waits: threadTurn), and run in the order they were asked for. When none waits and no thread
 * holds the turn, `fn` runs at once, before this returns.
 */
export async function mainWrite<T>(fn: () => T, gate: Int32Array = WRITE_GATE): Promise<T> {
  const done = beginWrite(gate);
  try {
    let queue = mainQueues.get(gate.buffer);
    if (!queue) mainQueues.set(gate.buffer, (queue = { tail: Promise.resolve(), queued: 0 }));
    if (queue.queued === 0 && Atomics.compareExchange(gate, THREAD_TURN, 0, MAIN_TOKEN) === 0) return inMainTurn(fn, gate);
    queue.queued++;
    Atomics.add(gate, MAIN_WAITING, 1);
    const before = queue.tail;
    let next!: () => void;
    queue.tail = new Promise((resolve) => (next = resolve));
    try {
      await before;
      const since = performance.now();
      for (;;) {
        const owner = Atomics.compareExchange(gate, THREAD_TURN, 0, MAIN_TOKEN);
        if (owner === 0) break;
        // A thread that died inside its turn (threadTurn): taken over, once, as the threads do.
        if (performance.now() - since >= TURN_STALE_MS) {
          if (Atomics.compareExchange(gate, THREAD_TURN, owner, MAIN_TOKEN) === owner) break;
          continue;
        }
        const waiting = waitAsync(gate, THREAD_TURN, owner, 10);
        if (waiting.async) await waiting.value;
      }
      return inMainTurn(fn, gate);
    } finally {
      queue.queued--;
      if (Atomics.sub(gate, MAIN_WAITING, 1) === 1) Atomics.notify(gate, MAIN_WAITING);
      next();
    }
  } catch (err) {
    throw storeError(err);
  } finally {
    done();
  }
}

/** Runs `fn` in the turn the main thread holds, and gives the turn back. */
function inMainTurn<T>(fn: () => T, gate: Int32Array): T {
  try {
    return fn();
  } finally {
    if (Atomics.compareExchange(gate, THREAD_TURN, MAIN_TOKEN, 0) === MAIN_TOKEN) Atomics.notify(gate, THREAD_TURN);
  }
}
