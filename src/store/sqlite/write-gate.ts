/**
 * Shared with the maintenance thread. [0]: writers of this process waiting for or holding the
 * write lock; its indexer starts no transaction while it is above 0. SQLite's busy handler alone
 * let the indexer, which starts its next transaction the instant it commits, starve the main
 * thread's inserts past the busy timeout (SQLITE_BUSY while 375k rows were written and indexed).
 * [1]: writes so far; the indexer works in the background only once it stops moving (a scan's
 * inserts waited in SQLite's busy handler — which sleeps 1, 2, 5, 10… ms between tries — behind
 * the indexer's transactions: 0.23 s of a 0.53 s full scan, on the event loop).
 */
export const WRITE_GATE = new Int32Array(new SharedArrayBuffer(8));

/**
 * Counts a write as waiting or under way in `gate` (this process's WRITE_GATE, or the same
 * memory seen from a scan thread: row-writer.ts) until the returned function is called. Only the
 * write itself: a gate held while a batch is read would keep a filtered query's catch-up
 * (catalog-indexer.ts giveWay) waiting for the whole scan.
 */
export function beginWrite(gate: Int32Array = WRITE_GATE): () => void {
  Atomics.add(gate, 0, 1);
  Atomics.add(gate, 1, 1);
  return () => {
    if (Atomics.sub(gate, 0, 1) === 1) Atomics.notify(gate, 0);
  };
}
