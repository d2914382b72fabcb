import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openSqliteStores } from '../../src/store/sqlite/index.ts';
import { tempDir } from '../helpers/libritts-tree.ts';

// A scan thread holds the write lock while it commits a batch (row-writer.ts), and a cancel or a
// shutdown terminates the thread at any moment. SQLite's locks are per process, so a connection
// left open inside a transaction by a dead thread would lock every other connection of the
// service out for good. better-sqlite3 closes a thread's connections when the thread's
// environment is torn down, which rolls the transaction back; this is what the service relies on.
const HOLDER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
db.exec('BEGIN IMMEDIATE');
db.prepare("INSERT INTO tasks_probe (n) VALUES (1)").run();
parentPort.postMessage('holding');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // never returns: terminate() ends it
`;

describe('a scan thread terminated inside its write transaction', () => {
  it('leaves no lock behind: the service’s own connection writes at once afterwards, and the rows of the dead transaction are gone', async () => {
    const file = path.join(tempDir('vl-rw-'), 'v.db');
    const stores = openSqliteStores(file);
    onTestFinished(() => stores.close());
    const db = stores.database.db;
    db.exec('CREATE TABLE tasks_probe (n INTEGER)');
    const worker = new Worker(HOLDER, { eval: true, workerData: { file, module: require.resolve('better-sqlite3') } });
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    // While the thread holds the lock, a write here waits and gives up (the test can fail).
    db.pragma('busy_timeout = 100');
    expect(() => db.prepare('INSERT INTO tasks_probe (n) VALUES (2)').run()).toThrow(/locked|busy/i);
    await worker.terminate();
    db.prepare('INSERT INTO tasks_probe (n) VALUES (3)').run();
    expect(db.prepare('SELECT n FROM tasks_probe ORDER BY n').pluck().all()).toEqual([3]);
  });
});
