import type { Stores } from '../types.ts';
import { Pg } from './connection.ts';
import { PgEventLog } from './event-log.ts';
import { PgPartStore } from './part-store.ts';
import { PgResultStore } from './result-store.ts';
import { migrate } from './schema.ts';
import { PgTaskStore } from './task-store.ts';

export interface PgStores extends Stores {
  tasks: PgTaskStore;
  parts: PgPartStore;
  pg: Pg;
}

/** The cluster's stores: tasks, events, results and scan parts in PostgreSQL, schema migrated first. */
export async function openPgStores(url: string, opts: { max?: number; onError?: (err: Error) => void } = {}): Promise<PgStores> {
  const pg = new Pg(url, opts);
  try {
    await migrate(pg);
  } catch (err) {
    await pg.close().catch(() => {});
    throw err;
  }
  return {
    pg,
    tasks: new PgTaskStore(pg),
    events: new PgEventLog(pg),
    results: new PgResultStore(pg),
    parts: new PgPartStore(pg),
    close: () => pg.close(),
  };
}
