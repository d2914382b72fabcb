import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { SUMMARY_COLUMNS, type RecordedFile } from '../../src/domain/file-result.ts';
import { openSqliteStores } from '../../src/store/sqlite/index.ts';
import { ReuseRows } from '../../src/store/sqlite/reuse-rows.ts';
import { SCANNER_VERSION } from '../../src/scan/version.ts';
import { queuedSnapshot } from '../../src/tasks/local-queue.ts';
import { tempDir } from '../helpers/libritts-tree.ts';

const MTIME = '1700000000123456789';

function recorded(p: string, extra: Partial<RecordedFile> = {}): RecordedFile {
  return {
    path: p,
    subset: 'dev-clean',
    speaker_id: '84',
    chapter_id: '121123',
    utterance_id: '84_121123_000001_000000',
    text_normalized: 'The text.',
    text_original: 'The "text".',
    sample_rate: 24000,
    channels: 1,
    bits_per_sample: 16,
    encoding: 'pcm_s16le',
    frames: 48000,
    duration_s: 2,
    bytes: 96044,
    peak_dbfs: -3.25,
    rms_dbfs: -20.5,
    clipped_samples: 3,
    dc_offset: -0.0001,
    leading_silence_s: 0.01,
    trailing_silence_s: 0.2,
    snr_db: 31.5,
    error: null,
    mtime_ns: MTIME,
    sidecars: '{}',
    ...extra,
  };
}

/** What the summary reads of a row: its SUMMARY_COLUMNS and its error. */
const summaryOf = (r: RecordedFile) => Object.fromEntries([...SUMMARY_COLUMNS, 'error'].map((k) => [k, r[k as keyof RecordedFile]]));

describe('a scan thread’s copy of a reference scan’s rows by row id (ReuseRows.copyRows)', () => {
  it('copies the rows fingerprints() found, gives back what the summary reads of each, and never a row that is no longer the reference’s', async () => {
    const stores = openSqliteStores(path.join(tempDir('vl-reuse-rows-'), 'r.db'));
    onTestFinished(() => stores.close());
    const task = async () => {
      const snapshot = queuedSnapshot({ libritts_path: '/data/x', root: '/data/x', analysis: 'full' });
      expect(await stores.tasks.insertTask({ snapshot, root: '/data/x', reuse: 'auto', scannerVersion: SCANNER_VERSION }, { id: 1, type: 'progress', snapshot })).toBe(true);
      return { id: snapshot.task_id, seq: stores.database.seqOf(snapshot.task_id)! };
    };
    const [ref, other, dst] = [await task(), await task(), await task()];
    const a = recorded('x/a.wav');
    const b = recorded('x/b.wav', { error: { code: 'TRUNCATED', detail: 'cut' }, snr_db: null, text_original: null });
    const c = recorded('x/c.wav', { subset: 'test-other', text_normalized: '', peak_dbfs: -1 });
    await stores.results.insertResults(ref.id, [a, b, c]);
    await stores.results.insertResults(other.id, [recorded('x/d.wav')]);

    const reuse = new ReuseRows(stores.database.db);
    const prints = reuse.fingerprints(ref.seq, ['x/a.wav', 'x/b.wav', 'x/c.wav', 'x/d.wav']);
    expect([...prints.keys()]).toEqual(['x/a.wav', 'x/b.wav', 'x/c.wav']);
    expect(prints.get('x/a.wav')).toMatchObject({ bytes: 96044, mtime_ns: MTIME, sidecars: '{}' });
    const theirs = reuse.fingerprints(other.seq, ['x/d.wav']).get('x/d.wav')!.rid;

    const rids = ['x/a.wav', 'x/b.wav', 'x/c.wav'].map((p) => prints.get(p)!.rid);
    // A row id of another task (one that `ref`'s deletion freed could be reused so) is not copied.
    const copied = stores.database.db.transaction(() => reuse.copyRows(ref.seq, dst.seq, [...rids, theirs], false))();
    expect(copied).toEqual([summaryOf(a), summaryOf(b), summaryOf(c)]);
    const rows = await stores.results.resultsByPaths(dst.id, ['x/a.wav', 'x/b.wav', 'x/c.wav', 'x/d.wav']);
    expect(rows.map((r) => [r.path, r.reused])).toEqual([
      ['x/a.wav', true],
      ['x/b.wav', true],
      ['x/c.wav', true],
    ]);
    // A second copy of the same rows adds nothing; what the task holds as copies is found by path.
    expect(stores.database.db.transaction(() => reuse.copyRows(ref.seq, dst.seq, rids, false))()).toEqual([]);
    expect(reuse.copiedBefore(dst.seq, ['x/c.wav', 'x/a.wav', 'x/d.wav']).sort((x, y) => x.path.localeCompare(y.path))).toEqual([summaryOf(a), summaryOf(c)]);

    // Header only: the signal fields stay null in the copy and in what comes back.
    const header = await task();
    const [h] = stores.database.db.transaction(() => reuse.copyRows(ref.seq, header.seq, [rids[0]!], true))();
    expect(h).toEqual({ ...summaryOf(a), peak_dbfs: null, rms_dbfs: null, clipped_samples: null, leading_silence_s: null, trailing_silence_s: null, snr_db: null });
  });
});
