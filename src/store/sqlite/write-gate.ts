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
