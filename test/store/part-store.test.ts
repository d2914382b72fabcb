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
});
