import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCANNER_VERSION } from '../../src/scan/version.ts';
import { openSqliteStores } from '../../src/store/sqlite/index.ts';
import { MIGRATIONS } from '../../src/store/sqlite/schema.ts';
import { queuedSnapshot } from '../../src/tasks/local-queue.ts';
import { tempDir } from '../helpers/libritts-tree.ts';
import { databaseAtVersion } from '../helpers/old-database.ts';

/** The SQLite task store's lookup of the scan a rescan reuses, among many tasks. */

let stores: ReturnType<typeof openSqliteStores>;
beforeAll(() => {
  stores = openSqliteStores(path.join(tempDir('vl-tasks-'), 't.db'));
});
afterAll(async () => {
  await stores.close();
});

async function task(root: string, end: 'completed' | 'failed' | null): Promise<string> {
  const snapshot = queuedSnapshot({ libritts_path: root, root, analysis: 'header' });
  await stores.tasks.insertTask({ snapshot, root, reuse: 'auto', scannerVersion: SCANNER_VERSION }, { id: 1, type: 'progress', snapshot });
  // The status changes as the service changes it: by the event log's updates of the task row.
  await stores.events.append(snapshot.task_id, 'progress', { ...snapshot, status: 'running' }, { record: true });
  if (end) await stores.events.append(snapshot.task_id, end, { ...snapshot, status: end }, { record: true });
  return snapshot.task_id;
}

describe('the reference of a rescan (SQLite)', () => {
  it('is the latest completed scan of the root, found by the root’s index however many other tasks there are', async () => {
    const old = await task('/data/old', 'completed');
    for (let i = 0; i < 300; i++) await task(`/data/other${i % 7}`, i % 3 ? 'completed' : null);
    await task('/data/old', 'failed');
    await task('/data/old', null);
    const q = { root: '/data/old', scannerVersion: SCANNER_VERSION, excludeId: 'none', analysis: 'header' as const };
    expect(await stores.tasks.findReference(q)).toEqual({ taskId: old, analysis: 'header' });
    // A task that completes later (its status updated into the partial index) becomes the reference.
    const newer = await task('/data/old', 'completed');
    expect(await stores.tasks.findReference(q)).toEqual({ taskId: newer, analysis: 'header' });
    expect(await stores.tasks.findReference({ ...q, excludeId: newer })).toEqual({ taskId: old, analysis: 'header' });
    // The lookup's own statement, planned: by tasks_by_root, not a walk of every completed task
    // (20 ms on the main thread with 50,000 tasks of other roots before the index).
    const source = (stores.tasks as unknown as { stmt: { reference: Database.Statement } }).stmt.reference.source;
    const plan = stores.database.db.prepare(`EXPLAIN QUERY PLAN ${source}`).all(q.root, q.scannerVersion, q.excludeId, q.analysis) as { detail: string }[];
    expect(plan.map((p) => p.detail).join('\n')).toMatch(/USING INDEX tasks_by_root \(root=\?\)/);
  });

  it('a database made before the index gains it when the store opens', async () => {
    const { file, db } = databaseAtVersion(3, 'vl-tasks-old-');
    db.close();
    const reopened = openSqliteStores(file);
    try {
      expect(reopened.database.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      expect(reopened.database.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'tasks_by_root'").get()).toEqual({ name: 'tasks_by_root' });
    } finally {
      await reopened.close();
    }
  });
});
