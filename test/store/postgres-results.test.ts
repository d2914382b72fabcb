import { describe, expect, it, onTestFinished } from 'vitest';
import type { FileResult } from '../../src/domain/file-result.ts';
import { openPgStores } from '../../src/store/postgres/index.ts';
import { SCANNER_VERSION } from '../../src/scan/version.ts';
import { queuedSnapshot } from '../../src/tasks/local-queue.ts';
import { freshDatabaseUrl } from '../helpers/shared-servers.ts';

/** PostgreSQL's results store where the cluster's parts write: rows of tasks that ended or went. */

const row = (path: string): FileResult =>
  ({
    path,
    subset: null,
    speaker_id: null,
    chapter_id: null,
    utterance_id: null,
    text_normalized: 'words',
    text_original: null,
    sample_rate: 16000,
    channels: 1,
    bits_per_sample: 16,
    encoding: 'pcm_s16le',
    frames: 16000,
    duration_s: 1,
    bytes: 32044,
    peak_dbfs: null,
    rms_dbfs: null,
    clipped_samples: null,
    dc_offset: null,
    leading_silence_s: null,
    trailing_silence_s: null,
    snr_db: null,
    error: null,
  }) as FileResult;

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
