import { describe, expect, it, onTestFinished } from 'vitest';
import type { FileResult } from '../../src/domain/file-result.ts';
import { openPgStores } from '../../src/store/postgres/index.ts';
import { SCANNER_VERSION } from '../../src/scan/version.ts';
import { queuedSnapshot } from '../../src/tasks/local-queue.ts';
import { clipRow } from '../helpers/result-row.ts';
import { freshDatabaseUrl } from '../helpers/shared-servers.ts';

/** PostgreSQL's results store where the cluster's parts write: rows of tasks that ended or went. */

const row = (path: string): FileResult => clipRow(path, { text_normalized: 'words' });

describe('PostgreSQL results of tasks that ended or went', () => {
  it('records nothing for a task whose cancel was requested, and a deleted task’s rows in the same group commit fail no other task’s', async () => {
    const stores = await openPgStores(await freshDatabaseUrl());
    onTestFinished(() => stores.close());
    const task = async () => {
      const snapshot = { ...queuedSnapshot({ libritts_path: '/d', root: '/d', analysis: 'header' }), status: 'running' as const };
      await stores.tasks.insertTask({ snapshot, root: '/d', reuse: 'none', scannerVersion: SCANNER_VERSION }, { id: 1, type: 'progress', snapshot });
      return snapshot.task_id;
    };
    const [cancelled, gone, live] = [await task(), await task(), await task()];
    await stores.results.insertResults(cancelled, [row('a.wav')]);
    await stores.tasks.requestCancel(cancelled);
    await stores.results.insertResults(cancelled, [row('b.wav')]);
    expect((await stores.results.resultCounts(cancelled)).done).toBe(1);
    await stores.tasks.deleteTask(gone);
    // Sent at once, they share one statement.
    const outcomes = await Promise.allSettled([
      stores.results.insertResults(live, [row('x.wav')]),
      stores.results.insertResults(gone, [row('y.wav')]),
      stores.results.insertResults(live, [row('z.wav')]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect((await stores.results.resultCounts(live)).done).toBe(2);
  });
});
