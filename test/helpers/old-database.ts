import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../src/store/sqlite/schema.ts';
import { tempDir } from './libritts-tree.ts';

/** A new SQLite file at schema version `version`, as an earlier release made it: open, for rows to be put in as that release would. */
export function databaseAtVersion(version: number, prefix = 'vl-old-db-'): { file: string; db: Database.Database } {
  const file = path.join(tempDir(prefix), 'old.db');
  const db = new Database(file);
  for (const [v, sql] of MIGRATIONS.slice(0, version).entries()) {
    db.exec(sql);
    db.pragma(`user_version = ${v + 1}`);
  }
  return { file, db };
}
