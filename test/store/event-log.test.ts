import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskEvent, TaskSnapshot } from '../../src/domain/task.ts';
import { SCANNER_VERSION } from '../../src/scan/version.ts';
import { openSqliteStores } from '../../src/store/sqlite/index.ts';
import { MIGRATIONS } from '../../src/store/sqlite/schema.ts';
import { StorageFullError } from '../../src/store/types.ts';
import { queuedSnapshot } from '../../src/tasks/local-queue.ts';
import { tempDir } from '../helpers/libritts-tree.ts';
import { databaseAtVersion } from '../helpers/old-database.ts';

/**
 * The SQLite event log commits the appends made in one turn of the event loop together
 * (sqlite/event-log.ts). What that must not change: an append resolves only once it is on disk,
 * each task's ids still advance one by one, and a commit that fails fails every append in it,
 * none half-recorded.
 */

let file: string;
let stores: ReturnType<typeof openSqliteStores>;
/** A second connection to the same file: what another process would see. */
let other: Database.Database;
beforeAll(() => {
  file = path.join(tempDir('vl-events-'), 'e.db');
  stores = openSqliteStores(file);
  other = new Database(file, { readonly: true });
});
afterAll(async () => {
  other.close();
  await stores.close();
});

async function newTasks(n: number): Promise<TaskSnapshot[]> {
  const out: TaskSnapshot[] = [];
  for (let i = 0; i < n; i++) {
    const snapshot = queuedSnapshot({ libritts_path: '/data/x', root: '/data/x', analysis: 'header' });
    await stores.tasks.insertTask({ snapshot, root: '/data/x', reuse: 'auto', scannerVersion: SCANNER_VERSION }, { id: 1, type: 'progress', snapshot });
    out.push(snapshot);
  }
  return out;
}

const stored = (taskId: string) => other.prepare('SELECT id, type FROM events WHERE task = (SELECT seq FROM tasks WHERE id = ?) ORDER BY id').all(taskId) as { id: number; type: string }[];
const lastId = (taskId: string) => (other.prepare('SELECT last_event_id FROM tasks WHERE id = ?').get(taskId) as { last_event_id: number }).last_event_id;

describe('the SQLite event log, appends made at once', () => {
  it('resolves each append only once another connection sees it, ids advancing one by one per task', async () => {
    const tasks = await newTasks(60);
    const seenAtResolve: boolean[] = [];
    const appends: Promise<TaskEvent | null>[] = [];
    // Three appends to each of 60 tasks, all made in one turn: the first two recorded, the third not.
    for (let k = 0; k < 3; k++) {
      for (const t of tasks) {
        appends.push(
          stores.events.append(t.task_id, 'progress', { ...t, status: 'running', files_done: k }, { record: k < 2 }).then((e) => {
            seenAtResolve.push(lastId(t.task_id) >= e!.id && (k === 2 || stored(t.task_id).some((r) => r.id === e!.id)));
            return e;
          }),
        );
      }
    }
    const events = await Promise.all(appends);
    expect(seenAtResolve).toHaveLength(180);
    expect(seenAtResolve.every(Boolean)).toBe(true);
    for (const [i, t] of tasks.entries()) {
      expect([0, 1, 2].map((k) => events[k * tasks.length + i]!.id)).toEqual([2, 3, 4]);
      expect(stored(t.task_id)).toEqual([
        { id: 1, type: 'progress' },
        { id: 2, type: 'progress' },
        { id: 3, type: 'progress' },
      ]);
    }
  });

  it('appends made at once share one commit: when it fails (the database full) every append made with it fails, and none is recorded', async () => {
    const tasks = await newTasks(20);
    const db = stores.database.db;
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    try {
      // Half the snapshots are too large for the pages left: the commit they share cannot happen,
      // and the small ones made with them fail too (appends committed one by one would not).
      const big = 'x'.repeat(200_000);
      const results = await Promise.allSettled(
        tasks.map((t, i) => stores.events.append(t.task_id, 'progress', { ...t, status: 'running', message: i % 2 ? 'small' : big }, { record: true })),
      );
      expect(results.every((r) => r.status === 'rejected' && r.reason instanceof StorageFullError)).toBe(true);
      for (const t of tasks) {
        expect(lastId(t.task_id)).toBe(1);
        expect(stored(t.task_id)).toEqual([{ id: 1, type: 'progress' }]);
      }
    } finally {
      db.pragma('max_page_count = 1073741823');
    }
    // With room again, the same appends go through.
    const again = await Promise.all(tasks.map((t) => stores.events.append(t.task_id, 'completed', { ...t, status: 'completed' }, { record: true })));
    expect(again.map((e) => e!.id)).toEqual(tasks.map(() => 2));
  });
});

describe('the SQLite event log, stored by task seq (migration 5)', () => {
  it('a database made before keeps every event of its tasks, read back and added to as before', async () => {
    // Schema version 4: events keyed by the task's UUID.
    const { file: old, db } = databaseAtVersion(4, 'vl-events-v4-');
    const snaps = [0, 1].map(() => queuedSnapshot({ libritts_path: '/data/v4', root: '/data/v4', analysis: 'header' }));
    const insTask = db.prepare("INSERT INTO tasks (id, seq, status, created_at, last_event_id, snapshot, root) VALUES (?, ?, ?, 'then', ?, ?, '/data/v4')");
    const insEvent = db.prepare("INSERT INTO events (task_id, id, type, created_at, snapshot) VALUES (?, ?, ?, 'then', ?)");
    const done = { ...snaps[0]!, status: 'completed' as const, progress: 1 };
    insTask.run(snaps[0]!.task_id, 7, 'completed', 3, JSON.stringify(done));
    insEvent.run(snaps[0]!.task_id, 1, 'progress', JSON.stringify(snaps[0]));
    insEvent.run(snaps[0]!.task_id, 2, 'progress', JSON.stringify({ ...snaps[0], status: 'running', phase: 'discovering' }));
    insEvent.run(snaps[0]!.task_id, 3, 'completed', JSON.stringify(done));
    insTask.run(snaps[1]!.task_id, 9, 'running', 2, JSON.stringify({ ...snaps[1], status: 'running' }));
    insEvent.run(snaps[1]!.task_id, 1, 'progress', JSON.stringify(snaps[1]));
    insEvent.run(snaps[1]!.task_id, 2, 'progress', JSON.stringify({ ...snaps[1], status: 'running', phase: 'discovering' }));
    // An event whose task row is gone (a delete interrupted by an older version) has nothing to belong to.
    insEvent.run('00000000-0000-4000-8000-000000000000', 1, 'progress', JSON.stringify(snaps[1]));
    db.close();

    const reopened = openSqliteStores(old);
    try {
      expect(reopened.database.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      const a = await reopened.events.eventsAfter(snaps[0]!.task_id, 0, 10);
      expect(a.map((e) => [e.id, e.type, e.snapshot.status, e.snapshot.phase])).toEqual([
        [1, 'progress', 'queued', null],
        [2, 'progress', 'running', 'discovering'],
        [3, 'completed', 'completed', null],
      ]);
      expect((await reopened.events.terminalEvent(snaps[0]!.task_id))?.id).toBe(3);
      expect(await reopened.events.eventsAfter(snaps[1]!.task_id, 1, 10)).toMatchObject([{ id: 2, snapshot: { phase: 'discovering' } }]);
      expect(reopened.database.db.prepare('SELECT COUNT(*) AS n FROM events').get()).toEqual({ n: 5 });
      // The running task goes on from its last id; deleting the ended one takes its events with it.
      expect(await reopened.events.append(snaps[1]!.task_id, 'completed', { ...snaps[1]!, status: 'completed' }, { record: true })).toMatchObject({ id: 3 });
      expect((await reopened.events.terminalEvent(snaps[1]!.task_id))?.id).toBe(3);
      await reopened.tasks.deleteTask(snaps[0]!.task_id);
      expect(await reopened.events.eventsAfter(snaps[0]!.task_id, 0, 10)).toEqual([]);
      expect(reopened.database.db.prepare('SELECT COUNT(*) AS n FROM events').get()).toEqual({ n: 3 });
    } finally {
      await reopened.close();
    }
  });
});
