import { describe, expect, it, onTestFinished } from 'vitest';
import { SCANNER_VERSION } from '../../src/scan/version.ts';
import { openPgStores } from '../../src/store/postgres/index.ts';
import { queuedSnapshot } from '../../src/tasks/local-queue.ts';
import { freshDatabaseUrl } from '../helpers/shared-servers.ts';

/** The cluster's parts in PostgreSQL (part-store.ts): what a part run again reports. */

describe('PgPartStore', () => {
  it("a part run again after its worker died never lowers the counts of rows (its walk counts the dead run's rows again from 0)", async () => {
    const s = await openPgStores(await freshDatabaseUrl());
    onTestFinished(() => s.close());
    const snapshot = queuedSnapshot({ libritts_path: '/data/x', root: '/data/x', analysis: 'header' });
    await s.tasks.insertTask({ snapshot, root: '/data/x', reuse: 'auto', scannerVersion: SCANNER_VERSION }, { id: 1, type: 'progress', snapshot });
    const id = snapshot.task_id;
    await s.parts.register(id, [{ key: 'a', scope: { dirs: ['a'], recursive: true } }]);
    await s.parts.take(id, 'a', 'w1');
    await s.parts.report(id, 'a', { found: 300, walked: false, done: 320, failed: 2, bytes: 9000, reused: 5 });
    // The second run starts over: its first report counts what its walk has found so far.
    expect(await s.parts.take(id, 'a', 'w2')).toMatchObject({ resume: true });
    await s.parts.report(id, 'a', { found: 64, walked: false, done: 0, failed: 0, bytes: 0, reused: 0 });
    expect(await s.parts.total(id)).toMatchObject({ found: 64, done: 320, failed: 2, bytes: 9000, reused: 5 });
    await s.parts.report(id, 'a', { found: 400, walked: true, done: 350, failed: 3, bytes: 9900, reused: 6 });
    expect(await s.parts.total(id)).toMatchObject({ found: 400, walked: true, done: 350, failed: 3, bytes: 9900, reused: 6 });
  });

  it("tells a part's worker, on each report, whether the task still wants it: not once cancelled, ended or deleted (the stop message over Redis may never come)", async () => {
    const s = await openPgStores(await freshDatabaseUrl());
    onTestFinished(() => s.close());
    const start = async () => {
      const snapshot = queuedSnapshot({ libritts_path: '/data/x', root: '/data/x', analysis: 'header' });
      await s.tasks.insertTask({ snapshot, root: '/data/x', reuse: 'auto', scannerVersion: SCANNER_VERSION }, { id: 1, type: 'progress', snapshot });
      await s.events.append(snapshot.task_id, 'progress', { ...snapshot, status: 'running' }, { record: true });
      await s.parts.register(snapshot.task_id, [{ key: 'a', scope: { dirs: ['a'], recursive: true } }]);
      await s.parts.take(snapshot.task_id, 'a', 'w1');
      return snapshot;
    };
    const progress = { found: 1, walked: false, done: 1, failed: 0, bytes: 1, reused: 0 };
    const cancelled = await start();
    expect(await s.parts.report(cancelled.task_id, 'a', progress)).toBe(true);
    await s.tasks.requestCancel(cancelled.task_id);
    expect(await s.parts.report(cancelled.task_id, 'a', progress)).toBe(false);
    const failed = await start();
    await s.events.append(failed.task_id, 'failed', { ...failed, status: 'failed' }, { record: true });
    expect(await s.parts.report(failed.task_id, 'a', progress)).toBe(false);
    const deleted = await start();
    await s.tasks.deleteTask(deleted.task_id);
    expect(await s.parts.report(deleted.task_id, 'a', progress)).toBe(false);
  });
});
