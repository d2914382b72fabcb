import type { Stores } from '../types.ts';
import { SqliteDatabase } from './database.ts';
import { SqliteEventLog } from './event-log.ts';
import { SqliteResultStore } from './result-store.ts';
import { SqliteTaskStore } from './task-store.ts';

/** The single-process stores: tasks, events and results in one SQLite file (`:memory:` for none). */
export function openSqliteStores(file: string): Stores & { database: SqliteDatabase } {
  const database = new SqliteDatabase(file);
  return {
    database,
    tasks: new SqliteTaskStore(database),
    events: new SqliteEventLog(database),
    results: new SqliteResultStore(database),
    close: () => database.close(),
  };
}
