import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StoreOpenError } from '../types.ts';
import { Maintenance } from './maintenance.ts';
import { MIGRATIONS } from './schema.ts';
import { addSqlFunctions } from './sql-functions.ts';
export { mainWrite } from './write-gate.ts';

/**
 * One SQLite connection shared by the task, event and result stores: WAL mode, migrations run
 * once at open, WAL checkpoints and catalog indexing in a background thread, and the tasks'
 * integer keys cached.
 */
export class SqliteDatabase {
  readonly db: Database.Database;
  /** Checkpoints and the catalog indexer; null for `:memory:` (no second connection can see it). */
  readonly maintenance: Maintenance | null = null;
  private readonly seqs = new Map<string, number>();

  constructor(readonly file: string) {
    this.db = openDatabase(file);
    if (file !== ':memory:') {
      // Checkpoints run in a background thread (maintenance.ts), not inside a request's commit.
      this.db.pragma('wal_autocheckpoint = 0');
      this.maintenance = new Maintenance(file);
    }
  }

  /** The task's integer key (results are keyed by it: a third of the row, faster inserts); null when unknown. */
  seqOf(id: string): number | null {
    let seq = this.seqs.get(id);
    if (seq === undefined) {
      seq = (this.db.prepare('SELECT seq FROM tasks WHERE id = ?').get(id) as { seq: number } | undefined)?.seq;
      if (seq === undefined) return null;
      this.seqs.set(id, seq);
    }
    return seq;
  }

  rememberSeq(id: string, seq: number): void {
    this.seqs.set(id, seq);
  }

  forgetSeq(id: string): void {
    this.seqs.delete(id);
  }

  async close(): Promise<void> {
    await this.maintenance?.close();
    if (this.db.open) this.db.close();
  }
}

/** Opens (creating if needed) and migrates the database; a file that cannot serve is a StoreOpenError. */
function openDatabase(file: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a crash of the process loses nothing; only a power loss may drop the last commits.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    addSqlFunctions(db);
    const version = db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < MIGRATIONS.length; v++) {
      const sql = MIGRATIONS[v]!;
      const conn = db;
      conn.transaction(() => {
        conn.exec(sql);
        conn.pragma(`user_version = ${v + 1}`);
      })();
    }
    return db;
  } catch (err) {
    if (db?.open) db.close();
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'SQLITE_NOTADB'
        ? 'the file is not an SQLite database'
        : e.code === 'SQLITE_CANTOPEN'
          ? 'cannot open it (a directory, or a folder that cannot be created?)'
          : e.code === 'SQLITE_READONLY' || e.code === 'EACCES' || e.code === 'EROFS'
            ? 'it is read-only'
            : (e.message ?? String(err));
    throw new StoreOpenError(`Cannot use DB_PATH=${file}: ${why}`);
  }
}
