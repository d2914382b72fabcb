import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Runs in its own thread with its own connection: PASSIVE checkpoints never block writers, and
// their fsync no longer lands on whichever request's commit happened to cross the WAL threshold.
const CHECKPOINTER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const tick = () => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} };
const timer = setInterval(tick, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'close') return;
  clearInterval(timer);
  tick();
  db.close();
  parentPort.postMessage('closed');
});`;

/** A background thread that checkpoints the SQLite WAL of `file` every `intervalMs`. */
export class Checkpointer {
  private readonly worker: Worker;

  constructor(file: string, intervalMs = 500) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(CHECKPOINTER, { eval: true, workerData: { file, driver, intervalMs }, resourceLimits: { maxYoungGenerationSizeMb: 2 } });
    this.worker.unref();
    this.worker.on('error', () => {
      // Without it the WAL just grows until the main connection closes; nothing is lost.
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      this.worker.once('message', () => resolve());
      this.worker.once('exit', () => resolve());
    });
    this.worker.postMessage('close');
    await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
    await this.worker.terminate();
  }
}
