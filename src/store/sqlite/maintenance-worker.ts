// The SQLite maintenance thread: WAL checkpoints, and the catalog indexer. Its own connection, so
// neither ever runs inside a request's commit or on the event loop.
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { catalogIndexer } from './catalog-indexer.ts';
import { addSqlFunctions } from './sql-functions.ts';

if (!parentPort) throw new Error('the maintenance thread must run in a worker thread');
const port = parentPort;
const { file, checkpointMs, gate } = workerData as { file: string; checkpointMs: number; gate: SharedArrayBuffer };

// Indexing yields the CPU to scans and requests (setpriority on this thread's id, Linux).
try {
  const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
  if (tid > 0 && tid !== process.pid) os.setPriority(tid, 15);
} catch {
  // not Linux: normal priority
}

const db = new Database(file);
db.pragma('busy_timeout = 5000');
// As the main connection: WAL with NORMAL syncs at checkpoints, not at each indexing transaction
// (FULL made indexing 375k rows take 45 s instead of 16 s). A power cut may lose the last
// transactions, catalog rows and watermark together, which the indexer then redoes.
db.pragma('synchronous = NORMAL');
// Checkpoints are this thread's job, on its timer and within long catch-ups (catalog-indexer.ts).
db.pragma('wal_autocheckpoint = 0');
addSqlFunctions(db);

const writes = new Int32Array(gate);
const catchUp = catalogIndexer(db, { checkpointEvery: 64, gate: writes });

const checkpoint = (): void => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // busy: next time
  }
};

/**
 * Background indexing waits until the process has stopped writing for a tick (a scan's inserts
 * come every few ms), and gives way as soon as writing starts again: the indexer's transactions
 * would make them wait. A query that filters asks for a catch-up, which always runs (message
 * below); so a running scan's rows are indexed when someone filters them, else when it ends.
 */
let seenWrites = -1;
let indexing = false;
function indexSoon(): void {
  const now = Atomics.load(writes, 1);
  const quiet = now === seenWrites;
  seenWrites = now;
  if (indexing || !quiet) return;
  indexing = true;
  setImmediate(() => {
    try {
      catchUp(() => Atomics.load(writes, 1) !== now);
    } catch {
      // busy past the timeout: the next tick tries again
    }
    seenWrites = Atomics.load(writes, 1);
    indexing = false;
  });
}

const timer = setInterval(() => {
  checkpoint();
  indexSoon();
}, checkpointMs);

port.on('message', (m: { type: 'catch-up'; id: number } | { type: 'close' }) => {
  if (m.type === 'catch-up') {
    let error: string | null = null;
    try {
      catchUp();
    } catch (err) {
      error = (err as Error).message;
    }
    port.postMessage({ type: 'caught-up', id: m.id, error });
  } else if (m.type === 'close') {
    clearInterval(timer);
    checkpoint();
    db.close();
    port.postMessage({ type: 'closed' });
  }
});
