import Database from 'better-sqlite3';
import type { SummaryRow } from '../../domain/file-result.ts';
import type { RecordedFile } from '../types.ts';
import { rowInserter } from './result-insert.ts';
import { ReuseRows, type StoredPrint } from './reuse-rows.ts';
import { threadId } from 'node:worker_threads';
import { threadTurn, write } from './write-gate.ts';

/** This thread's token for write-gate.ts threadTurn: its id (never 0 in a worker thread). */
const TURN_TOKEN = threadId || -1;

/**
 * A scan thread's own connection to the service's database, for recording the rows it reads
 * (scan/worker.ts): the rows of a batch never travel to the main thread, which only merges what
 * they add to the summary. Passing 50,000 header rows through the main thread cost ~3.6 µs each
 * in structured cloning alone, plus the insert on the thread that answers HTTP.
 *
 * The database is the one the main thread opened and migrated; this connection only inserts.
 * WAL mode lets both threads' connections work at once (one writer at a time; SQLite's busy
 * handler waits for the other). Checkpoints stay with the maintenance thread, as for every
 * connection of the service.
 */
export class SqliteRowWriter {
  private readonly db: Database.Database;
  private readonly insert: ReturnType<typeof rowInserter>;
  private readonly reuse: ReuseRows;
  private readonly copyTx: Database.Transaction<(src: number, dst: number, rids: readonly number[], headerOnly: boolean) => SummaryRow[]>;

  private pageLimit = 0;

  /** `faults`: injection for tests (scan/types.ts WorkerFaults). */
  constructor(
    readonly file: string,
    private readonly faults: { pageLimit?: Int32Array | undefined; inTurn?: { on: string; then: 'exit' | 'hang' } | undefined } = {},
    /** This thread's count of its writes under way, which its pool takes back if it dies inside one (write-gate.ts releaseWritesOf). */
    private readonly own?: Int32Array,
  ) {
    this.db = new Database(file, { fileMustExist: true });
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('wal_autocheckpoint = 0');
    this.insert = rowInserter(this.db);
    this.reuse = new ReuseRows(this.db);
    this.copyTx = this.db.transaction((src: number, dst: number, rids: readonly number[], headerOnly: boolean) => this.reuse.copyRows(src, dst, rids, headerOnly));
  }

  /**
   * Records a batch in one transaction; a full disk is a StorageFullError. The write counts in
   * the process's write gate while it waits for the lock and runs (`gate`: RowTarget.gate), as
   * the main thread's writes do, and scan threads take turns (write-gate.ts threadTurn).
   */
  write(task: number, rows: RecordedFile[], gate: Int32Array): void {
    this.inTurn(
      (on) => rows.some((r) => r.path.endsWith(on)),
      gate,
      () => this.insert.immediate(task, rows),
    );
  }

  /** The fingerprints the reference scan `src` recorded for `paths`, with their rows (a read: no turn taken). */
  fingerprints(src: number, paths: readonly string[]): Map<string, StoredPrint> {
    return this.reuse.fingerprints(src, paths);
  }

  /**
   * Copies the reference scan's rows of `files` (their paths, and the rows fingerprints() found
   * them in) into `task`, marked reused, in one transaction taken in turn as write() does;
   * returns the rows copied, and those an earlier attempt copied (a reference deleted meanwhile
   * gives fewer, whose files the caller then reads).
   */
  copy(task: number, src: number, files: readonly { path: string; rid: number }[], headerOnly: boolean, gate: Int32Array): SummaryRow[] {
    const copied = this.inTurn(
      (on) => files.some((f) => f.path.endsWith(on)),
      gate,
      () =>
        this.copyTx.immediate(
          src,
          task,
          files.map((f) => f.rid),
          headerOnly,
        ),
    );
    if (copied.length === files.length) return copied;
    // A path the task holds already: copied by an attempt at this batch that a crash cut short.
    const got = new Set(copied.map((r) => r.path));
    const missed = files.filter((f) => !got.has(f.path)).map((f) => f.path);
    return [...copied, ...this.reuse.copiedBefore(task, missed)];
  }

  /** Runs a write in this thread's turn (write-gate.ts); `holds`: whether the write touches a path ending so (the inTurn fault). */
  private inTurn<T>(holds: (suffix: string) => boolean, gate: Int32Array, run: () => T): T {
    const limit = this.faults.pageLimit ? Atomics.load(this.faults.pageLimit, 0) : 0;
    if (limit !== this.pageLimit) this.db.pragma(`max_page_count = ${(this.pageLimit = limit) || 1073741823}`);
    const fault = this.faults.inTurn;
    return write(
      () =>
        threadTurn(
          () => {
            if (fault && holds(fault.on)) {
              if (fault.then === 'exit') process.exit(70);
              Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // until terminated
            }
            return run();
          },
          gate,
          TURN_TOKEN,
        ),
      gate,
      this.own,
    );
  }

  close(): void {
    this.db.close();
  }
}
