import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUMMARY_COLUMNS, type FileResult, type RecordedFile } from '../../src/domain/file-result.ts';
import type { TaskEvent, TaskSnapshot } from '../../src/domain/task.ts';
import { openPgStores } from '../../src/store/postgres/index.ts';
import { openSqliteStores } from '../../src/store/sqlite/index.ts';
import type { NewTask, Stores } from '../../src/store/types.ts';
import { SCANNER_VERSION } from '../../src/scan/version.ts';
import { queuedSnapshot } from '../../src/tasks/local-queue.ts';
import type { ResultFilter, ResultSort } from '../../src/store/result-query.ts';
import { tempDir } from '../helpers/libritts-tree.ts';
import { freshDatabaseUrl } from '../helpers/shared-servers.ts';

/**
 * One contract, every store: what the queue, the executor and the routes rely on, run against
 * SQLite and PostgreSQL alike.
 */

const engines: [string, () => Promise<Stores>][] = [
  ['SQLite', async () => openSqliteStores(path.join(tempDir('vl-contract-'), 'c.db'))],
  ['PostgreSQL', async () => openPgStores(await freshDatabaseUrl())],
];

function newTask(overrides: Partial<TaskSnapshot> = {}, root = '/data/x'): NewTask & { first: TaskEvent } {
  const snapshot = { ...queuedSnapshot({ libritts_path: root, root, analysis: 'header' }), ...overrides };
  return { snapshot, first: { id: 1, type: 'progress', snapshot }, root, reuse: 'auto', scannerVersion: SCANNER_VERSION };
}

const byPath: ResultSort = { key: 'path', desc: false };
/** Every row of a task matching `filter`, page by page (`limit` per page), in `sort` order. */
async function allPages(s: Stores, taskId: string, filter: ResultFilter = {}, sort: ResultSort = byPath, limit = 1000): Promise<FileResult[]> {
  const out: FileResult[] = [];
  for (let after; ;) {
    const page = await s.results.page(taskId, { filter, sort, after, limit });
    out.push(...page.rows);
    if (!page.next) return out;
    after = page.next;
  }
}

function row(p: string, extra: Partial<FileResult> = {}): FileResult {
  return {
    path: p,
    subset: 'dev-clean',
    speaker_id: '84',
    chapter_id: '121123',
    utterance_id: null,
    text_normalized: 'It’s “text”, with\ttabs',
    text_original: null,
    sample_rate: 24000,
    channels: 1,
    bits_per_sample: 16,
    encoding: 'pcm_s16le',
    frames: 48000,
    duration_s: 2.000001,
    bytes: 96044,
    peak_dbfs: -3.25,
    rms_dbfs: -20.5,
    clipped_samples: 0,
    dc_offset: -0.000123,
    leading_silence_s: 0.01,
    trailing_silence_s: 0.2,
    snr_db: 31.5,
    error: null,
    ...extra,
  };
}

describe.each(engines)('store contract: %s', (_name, open) => {
  let s: Stores;
  beforeAll(async () => {
    s = await open();
  });
  afterAll(async () => {
    await s.close();
  });

  async function insert(overrides: Partial<TaskSnapshot> = {}) {
    const t = newTask(overrides);
    expect(await s.tasks.insertTask(t, t.first)).toBe(true);
    return t.snapshot;
  }

  describe('tasks', () => {
    it('keeps a task with its first event, its root and no cancel', async () => {
      const snap = await insert();
      expect(await s.tasks.getTask(snap.task_id)).toEqual({ snapshot: snap, last_event_id: 1 });
      expect(await s.tasks.getRecord(snap.task_id)).toEqual({ snapshot: snap, last_event_id: 1, root: '/data/x', cancel_requested: false, reuse: 'auto' });
      expect(await s.events.eventsAfter(snap.task_id, 0, 10)).toEqual([{ id: 1, type: 'progress', snapshot: snap }]);
      expect(await s.tasks.getTask(randomUUID())).toBeNull();
    });

    it('lists newest first, by status, and counts by status', async () => {
      const before = await s.tasks.countByStatus();
      const a = await insert();
      const b = await insert();
      await s.events.append(b.task_id, 'progress', { ...b, status: 'running' }, { record: true });
      const list = await s.tasks.listTasks({ limit: 2 });
      expect(list.map((t) => t.task_id)).toEqual([b.task_id, a.task_id]);
      expect((await s.tasks.listTasks({ status: 'running', limit: 100 })).map((t) => t.task_id)).toContain(b.task_id);
      expect((await s.tasks.listTasks({ status: 'running', limit: 100 })).map((t) => t.task_id)).not.toContain(a.task_id);
      const after = await s.tasks.countByStatus();
      expect(after.queued - before.queued).toBe(1);
      expect(after.running - before.running).toBe(1);
      const unfinished = (await s.tasks.unfinishedTasks()).map((t) => t.snapshot.task_id);
      expect(unfinished.indexOf(a.task_id)).toBeLessThan(unfinished.indexOf(b.task_id));
    });

    it('refuses a task past maxQueued, atomically with the insert', async () => {
      const queued = (await s.tasks.countByStatus()).queued;
      const t = newTask();
      expect(await s.tasks.insertTask(t, t.first, queued)).toBe(false);
      expect(await s.tasks.getTask(t.snapshot.task_id)).toBeNull();
      expect(await s.tasks.insertTask(t, t.first, queued + 1)).toBe(true);
    });

    it('remembers a cancel request', async () => {
      const snap = await insert();
      await s.tasks.requestCancel(snap.task_id);
      expect((await s.tasks.getRecord(snap.task_id))!.cancel_requested).toBe(true);
      expect((await s.tasks.unfinishedTasks()).find((t) => t.snapshot.task_id === snap.task_id)!.cancel_requested).toBe(true);
    });

    it('deletes a task with its events, results and speakers', async () => {
      const snap = await insert();
      await s.results.insertResults(snap.task_id, [row('a.wav')]);
      await s.results.replaceSpeakers(snap.task_id, [
        { speaker_id: '84', name: 'N', gender: 'F', subsets: ['dev-clean'], utterances: 1, failed: 0, duration_s: 2, median_snr_db: 30, reference_clip: 'a.wav' },
      ]);
      await s.tasks.deleteTask(snap.task_id);
      expect(await s.tasks.getTask(snap.task_id)).toBeNull();
      expect(await s.events.eventsAfter(snap.task_id, 0, 10)).toEqual([]);
      expect(await allPages(s, snap.task_id)).toEqual([]);
      expect(await s.results.count(snap.task_id, { min_snr_db: 0 })).toBe(0);
      expect(await s.results.speakers(snap.task_id)).toEqual([]);
    });
  });

  describe('event log', () => {
    it('gives increasing ids, keeps only recorded events in the log, and the latest snapshot on the task', async () => {
      const snap = await insert();
      const running = { ...snap, status: 'running' as const, phase: 'discovering' as const };
      const e2 = await s.events.append(snap.task_id, 'progress', running, { record: true });
      const e3 = await s.events.append(snap.task_id, 'progress', { ...running, files_done: 5 }, { record: false });
      expect([e2!.id, e3!.id]).toEqual([2, 3]);
      expect(await s.tasks.getTask(snap.task_id)).toEqual({ snapshot: { ...running, files_done: 5 }, last_event_id: 3 });
      expect((await s.events.eventsAfter(snap.task_id, 0, 10)).map((e) => e.id)).toEqual([1, 2]);
      expect(await s.events.terminalEvent(snap.task_id)).toBeNull();
    });

    it('writes nothing after the end: the terminal event stays the last', async () => {
      const snap = await insert();
      const done = { ...snap, status: 'completed' as const, progress: 100 };
      const end = await s.events.append(snap.task_id, 'completed', done, { record: true });
      expect(end).toEqual({ id: 2, type: 'completed', snapshot: done });
      expect(await s.events.append(snap.task_id, 'cancelled', { ...snap, status: 'cancelled' }, { record: true })).toBeNull();
      expect(await s.events.append(snap.task_id, 'progress', { ...snap, status: 'running' }, { record: false })).toBeNull();
      expect(await s.events.terminalEvent(snap.task_id)).toEqual(end);
      expect((await s.tasks.getTask(snap.task_id))!.last_event_id).toBe(2);
    });

    it('goes above `after`, the id a writer handed out for an event the store refused, and never below the stored id', async () => {
      const snap = await insert();
      const running = { ...snap, status: 'running' as const };
      expect((await s.events.append(snap.task_id, 'progress', running, { record: true, after: 1 }))!.id).toBe(2);
      // Id 3 went out unstored: the next event is 4, not a second 3.
      expect((await s.events.append(snap.task_id, 'progress', running, { record: true, after: 3 }))!.id).toBe(4);
      // A writer that knows less (another process) still gets the next id.
      expect((await s.events.append(snap.task_id, 'completed', { ...snap, status: 'completed' }, { record: true, after: 1 }))!.id).toBe(5);
      expect((await s.events.eventsAfter(snap.task_id, 0, 10)).map((e) => e.id)).toEqual([1, 2, 4, 5]);
    });

    it('honours onlyIf: a cancel of a queued task loses to a start', async () => {
      const snap = await insert();
      await s.events.append(snap.task_id, 'progress', { ...snap, status: 'running' }, { record: true });
      expect(await s.events.append(snap.task_id, 'cancelled', { ...snap, status: 'cancelled' }, { record: true, onlyIf: ['queued'] })).toBeNull();
      expect((await s.tasks.getTask(snap.task_id))!.snapshot.status).toBe('running');
    });

    it('keeps ids distinct and increasing under concurrent appends', async () => {
      const snap = await insert();
      const ids = await Promise.all(
        Array.from({ length: 40 }, (_, i) => s.events.append(snap.task_id, 'progress', { ...snap, status: 'running', files_done: i }, { record: i % 2 === 0 })),
      );
      expect(new Set(ids.map((e) => e!.id)).size).toBe(40);
      expect(Math.max(...ids.map((e) => e!.id))).toBe(41);
    });
  });

  describe('results', () => {
    it('deleteResults drops the rows at the paths given, and everything that finds them (filters, sorts, search, counts)', async () => {
      const snap = await insert();
      const rows = ['a', 'b', 'c', 'd'].map((n, i) => row(`x/${n}.wav`, { text_normalized: `word${n} common`, duration_s: i + 1 }));
      await s.results.insertResults(snap.task_id, rows);
      const paths = async (filter: ResultFilter, sort: ResultSort = byPath) => (await allPages(s, snap.task_id, filter, sort)).map((r) => r.path);
      expect(await paths({ q: 'common' })).toHaveLength(4); // indexed
      await s.results.deleteResults(snap.task_id, ['x/b.wav', 'x/d.wav', 'x/nope.wav']);
      expect(await paths({})).toEqual(['x/a.wav', 'x/c.wav']);
      expect(await paths({ min_duration: 0 }, { key: 'duration_s', desc: true })).toEqual(['x/c.wav', 'x/a.wav']);
      expect(await paths({ q: 'common' })).toEqual(['x/a.wav', 'x/c.wav']);
      expect(await paths({ q: 'wordb' })).toEqual([]);
      expect(await s.results.count(snap.task_id, { q: 'common' })).toBe(2);
      expect((await s.results.resultCounts(snap.task_id)).done).toBe(2);
      // Recorded paths, in byte order, a folder's range at a time, paged.
      await s.results.insertResults(
        snap.task_id,
        ['x0.wav', 'x/y/z.wav', 'w/a.wav', 'x-1/a.wav', 'x/'].map((p) => row(p)),
      );
      expect(await s.results.recordedPaths(snap.task_id, { limit: 100 })).toEqual(['w/a.wav', 'x-1/a.wav', 'x/', 'x/a.wav', 'x/c.wav', 'x/y/z.wav', 'x0.wav']);
      expect(await s.results.recordedPaths(snap.task_id, { from: 'x/', to: 'x0', limit: 100 })).toEqual(['x/', 'x/a.wav', 'x/c.wav', 'x/y/z.wav']);
      expect(await s.results.recordedPaths(snap.task_id, { from: 'x/', to: 'x0', after: 'x/a.wav', limit: 2 })).toEqual(['x/c.wav', 'x/y/z.wav']);
      await s.results.deleteResults(snap.task_id, ['x0.wav', 'x/y/z.wav', 'w/a.wav', 'x-1/a.wav', 'x/']);
      // A row recorded later at a deleted path is found by its own words only.
      await s.results.insertResults(snap.task_id, [row('x/b.wav', { text_normalized: 'fresh words', duration_s: 9 })]);
      expect(await paths({ q: 'wordb' })).toEqual([]);
      expect(await paths({ q: 'fresh' })).toEqual(['x/b.wav']);
    });

    it('search folds letter case as the index folded the transcripts: an exact copy of a word is always found (İ, Cherokee); a letter of a Devanagari word is not that word', async () => {
      const snap = await insert();
      const texts = ['İzmir is a city.', 'ᏣᎳᎩ language.', 'हिन्दी भाषा', 'ह न द', 'Plain ISTANBUL words.'];
      await s.results.insertResults(
        snap.task_id,
        texts.map((t, i) => row(`w/${i}.wav`, { text_normalized: t, text_original: t })),
      );
      const found = async (q: string) => (await allPages(s, snap.task_id, { q })).map((r) => r.path);
      expect(await found('İzmir')).toEqual(['w/0.wav']);
      expect(await found('ᏣᎳᎩ')).toEqual(['w/1.wav']);
      expect(await found('हिन्दी')).toEqual(['w/2.wav']);
      expect(await found('ह')).toEqual(['w/3.wav']);
      expect(await found('istanbul WORDS')).toEqual(['w/4.wav']);
      expect(await s.results.count(snap.task_id, { q: 'हिन्दी' })).toBe(1);
    });

    const paths = ['b/z.wav', 'B/a.wav', 'a/ü.wav', 'a/u.wav', 'a/caf\\xe9.wav', 'a/back\\\\slash.wav', 'a/x y.wav', 'a/X.wav', 'a/_.wav', 'a/0.wav'];

    it('pages every row once in byte order of path, the same in every store', async () => {
      const snap = await insert();
      await s.results.insertResults(
        snap.task_id,
        paths.map((p, i) => row(p, i % 3 === 0 ? { error: { code: 'TRUNCATED', detail: 'd' }, frames: null } : {})),
      );
      const seen = (await allPages(s, snap.task_id, {}, byPath, 3)).map((r) => r.path);
      const byteOrder = [...paths].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      expect(seen).toEqual(byteOrder);
      expect((await allPages(s, snap.task_id, { only: 'failed' })).map((r) => r.path)).toEqual(byteOrder.filter((p) => paths.indexOf(p) % 3 === 0));
      expect((await allPages(s, snap.task_id, { only: 'ok' })).length).toBe(paths.length - 4);
      expect(await s.results.count(snap.task_id, {})).toBe(paths.length);
      expect(await s.results.count(snap.task_id, { only: 'failed' })).toBe(4);
    });

    it('gives rows back exactly as written; a path written again keeps its first row, never duplicated', async () => {
      const snap = await insert();
      const r = row('a.wav');
      await s.results.insertResults(snap.task_id, [r, row('b.wav', { error: { code: 'NOT_RIFF_WAVE', detail: 'no RIFF' }, sample_rate: null, snr_db: null })]);
      await s.results.insertResults(snap.task_id, [{ ...r, rms_dbfs: -21.75 }]);
      const rows = await allPages(s, snap.task_id);
      expect(rows).toEqual([r, row('b.wav', { error: { code: 'NOT_RIFF_WAVE', detail: 'no RIFF' }, sample_rate: null, snr_db: null })]);
      expect(await s.results.resultCounts(snap.task_id)).toEqual({ done: 2, failed: 1, bytes: 2 * 96044, reused: 0 });
      expect((await s.results.resultsByPaths(snap.task_id, ['b.wav', 'nope.wav', 'a.wav'])).map((x) => x.path).sort()).toEqual(['a.wav', 'b.wav']);
      expect(await s.results.resultsByPaths(snap.task_id, [])).toEqual([]);
    });

    it('takes concurrent writes of the same paths (a part run twice at once) without error or duplicates', async () => {
      const snap = await insert();
      const batch = (v: number) => Array.from({ length: 50 }, (_, i) => row(`p/${i}.wav`, { rms_dbfs: v }));
      await Promise.all([1, 2, 3, 4].map((v) => s.results.insertResults(snap.task_id, batch(-v))));
      const rows = await allPages(s, snap.task_id);
      expect(rows).toHaveLength(50);
      expect(new Set(rows.map((r) => r.rms_dbfs)).size).toBe(1);
    });

    it('looks up thousands of paths at once', async () => {
      const snap = await insert();
      const many = Array.from({ length: 2500 }, (_, i) => row(`d/${String(i).padStart(5, '0')}.wav`));
      await s.results.insertResults(snap.task_id, many);
      const found = await s.results.resultsByPaths(snap.task_id, [...many.map((r) => r.path), 'missing.wav']);
      expect(found).toHaveLength(2500);
    });

    it('replaces a task’s speakers and lists them in numeric id order', async () => {
      const snap = await insert();
      const sp = (id: string) => ({
        speaker_id: id,
        name: `Reader ${id}`,
        gender: 'M',
        subsets: ['dev-clean', 'test-clean'],
        utterances: 3,
        failed: 1,
        duration_s: 12.5,
        median_snr_db: id === '9' ? null : 31.2,
        reference_clip: `${id}/a.wav`,
      });
      await s.results.replaceSpeakers(snap.task_id, [sp('100'), sp('9')]);
      await s.results.replaceSpeakers(snap.task_id, [sp('100'), sp('84'), sp('1000')]);
      expect((await s.results.speakers(snap.task_id)).map((r) => r.speaker_id)).toEqual(['84', '100', '1000']);
      expect((await s.results.speakers(snap.task_id))[0]).toEqual(sp('84'));
      expect(await s.results.speaker(snap.task_id, '100')).toEqual(sp('100'));
      expect(await s.results.speaker(snap.task_id, '9')).toBeNull();
    });
  });

  describe('reuse', () => {
    const MTIME = '1700000000123456789'; // past 2^53: exact only as a string or a BigInt
    const SIDECARS = JSON.stringify({ '84_121123.trans.tsv': `812:${MTIME}` });
    const recorded = (p: string, extra: Partial<RecordedFile> = {}): RecordedFile => ({ ...row(p), mtime_ns: MTIME, sidecars: SIDECARS, ...extra });

    it('gives the fingerprints of rows read cleanly, exact to the nanosecond', async () => {
      const ref = await insert();
      await s.results.insertResults(ref.task_id, [
        recorded('a.wav'),
        recorded('b.wav', { mtime_ns: null }),
        recorded('c.wav', { sidecars: null }),
        recorded('d.wav', { bytes: null }),
      ]);
      const prints = await s.results.fingerprints(ref.task_id, ['a.wav', 'b.wav', 'c.wav', 'd.wav', 'none.wav']);
      expect([...prints.entries()]).toEqual([['a.wav', { bytes: 96044, mtime_ns: MTIME, sidecars: SIDECARS }]]);
      expect((await s.results.fingerprints(randomUUID(), ['a.wav'])).size).toBe(0);
    });

    it('copies rows in bulk, marked reused; header-only copies leave the signal fields null; counts leave their bytes out', async () => {
      const ref = await insert();
      const a = recorded('x/a.wav');
      const b = recorded('x/b.wav', { error: { code: 'TRUNCATED', detail: 'cut' }, snr_db: null });
      await s.results.insertResults(ref.task_id, [a, b, recorded('x/c.wav')]);
      const full = await insert();
      await s.results.insertResults(full.task_id, [row('x/c.wav', { rms_dbfs: -9 })]);
      const copied = await s.results.copyResults(ref.task_id, full.task_id, ['x/a.wav', 'x/b.wav', 'x/c.wav', 'x/gone.wav'], false);
      // x/c.wav was there already: it keeps its row and is not reported as copied.
      expect(copied.map((r) => r.path).sort()).toEqual(['x/a.wav', 'x/b.wav']);
      // What comes back is what the summary reads of each copied row, with the source's values.
      const summaryOf = (r: FileResult) => Object.fromEntries([...SUMMARY_COLUMNS, 'error'].map((k) => [k, r[k as keyof FileResult]]));
      expect(copied.find((r) => r.path === 'x/b.wav')).toEqual(summaryOf(b));
      expect(copied.find((r) => r.path === 'x/a.wav')).toEqual(summaryOf(a));
      expect(await allPages(s, full.task_id)).toEqual([
        row('x/a.wav'),
        { ...row('x/b.wav'), error: { code: 'TRUNCATED', detail: 'cut' }, snr_db: null },
        row('x/c.wav', { rms_dbfs: -9 }),
      ]);
      expect((await s.results.resultsByPaths(full.task_id, ['x/a.wav', 'x/c.wav'])).map((r) => [r.path, r.reused]).sort()).toEqual([
        ['x/a.wav', true],
        ['x/c.wav', false],
      ]);
      expect(await s.results.resultCounts(full.task_id)).toEqual({ done: 3, failed: 1, bytes: 96044, reused: 2 });
      // The copies carry the fingerprints on: a later rescan can reuse them again.
      expect((await s.results.fingerprints(full.task_id, ['x/a.wav'])).get('x/a.wav')).toEqual({ bytes: 96044, mtime_ns: MTIME, sidecars: SIDECARS });

      const header = await insert();
      await s.results.copyResults(ref.task_id, header.task_id, ['x/a.wav'], true);
      const [h] = await allPages(s, header.task_id);
      expect(h).toEqual({
        ...a,
        mtime_ns: undefined,
        sidecars: undefined,
        peak_dbfs: null,
        rms_dbfs: null,
        clipped_samples: null,
        dc_offset: null,
        leading_silence_s: null,
        trailing_silence_s: null,
        snr_db: null,
      });
    });

    it('copies nothing from a task that is gone', async () => {
      const ref = await insert();
      await s.results.insertResults(ref.task_id, [recorded('a.wav')]);
      await s.tasks.deleteTask(ref.task_id);
      const to = await insert();
      expect(await s.results.copyResults(ref.task_id, to.task_id, ['a.wav'], false)).toEqual([]);
      expect(await allPages(s, to.task_id)).toEqual([]);
    });

    it('finds the latest completed task of the same root, scanner version and a rich enough analysis', async () => {
      const root = `/data/ref-${randomUUID()}`;
      const make = async (analysis: 'header' | 'full', status: 'completed' | 'failed', version = SCANNER_VERSION) => {
        const t = newTask({ analysis }, root);
        expect(await s.tasks.insertTask({ ...t, scannerVersion: version }, t.first)).toBe(true);
        await s.events.append(t.snapshot.task_id, status, { ...t.snapshot, status }, { record: true });
        return t.snapshot.task_id;
      };
      const q = (analysis: 'header' | 'full', excludeId: string = randomUUID()) => s.tasks.findReference({ root, analysis, scannerVersion: SCANNER_VERSION, excludeId });
      expect(await q('header')).toBeNull();
      const full1 = await make('full', 'completed');
      const header1 = await make('header', 'completed');
      await make('full', 'failed');
      await make('full', 'completed', SCANNER_VERSION - 1);
      expect(await q('header')).toEqual({ taskId: header1, analysis: 'header' });
      expect(await q('full')).toEqual({ taskId: full1, analysis: 'full' });
      expect(await q('header', header1)).toEqual({ taskId: full1, analysis: 'full' });
      expect(await s.tasks.findReference({ root: `${root}/other`, analysis: 'header', scannerVersion: SCANNER_VERSION, excludeId: randomUUID() })).toBeNull();
    });
  });
});

/** Rows to filter, with values a test can reason about: a seeded spread, nulls included. */
function libraryRows(n: number): FileResult[] {
  let x = 7;
  const rnd = () => (x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  // Accented words both composed and decomposed (e + U+0301), and Devanagari, whose vowel signs
  // and virama are marks inside a word: a search finds a word however it was encoded.
  const words = [
    'river',
    'Mountain',
    'whisper',
    'golden',
    'silence',
    'morning',
    'letter',
    'Captain',
    'don’t',
    'café',
    'éclair',
    'naïve',
    'cafe\u0301',
    'Re\u0301sume\u0301',
    'हिन्दी',
    'कविता',
  ];
  return Array.from({ length: n }, (_, i) => {
    const speaker = String([19, 84, 100, 1034, 7][i % 5]);
    const failed = i % 17 === 0;
    const text = Array.from({ length: 4 + (i % 5) }, () => words[Math.floor(rnd() * words.length)]).join(' ') + '.';
    return row(`s${i % 3}/${speaker}/${1000 + (i % 4)}/${speaker}_${1000 + (i % 4)}_${String(i).padStart(6, '0')}_000001.wav`, {
      subset: ['dev-clean', 'test-clean', 'train-clean-100'][i % 3]!,
      speaker_id: speaker,
      chapter_id: String(1000 + (i % 4)),
      text_normalized: i % 11 === 0 ? null : text,
      text_original: i % 13 === 0 ? null : text.toUpperCase(),
      duration_s: failed ? null : Math.round(rnd() * 2000) / 100,
      snr_db: failed || i % 9 === 0 ? null : Math.round(rnd() * 500) / 10,
      peak_dbfs: failed ? null : -Math.round(rnd() * 120) / 10,
      rms_dbfs: failed ? null : -Math.round(200 + rnd() * 300) / 10,
      clipped_samples: failed ? null : i % 7 === 0 ? 3 : 0,
      error: failed ? { code: 'TRUNCATED', detail: 'cut' } : null,
    });
  });
}

/** A text's words as a search sees them: NFC, lower case, runs of letters, marks and digits. */
const words = (s: string | null) =>
  new Set(
    (s ?? '')
      .normalize('NFC')
      .toLowerCase()
      .split(/[^\p{L}\p{M}\p{N}]+/u)
      .filter(Boolean),
  );

/** The filter, applied in the test: what every store must answer. */
function matches(r: FileResult, f: ResultFilter): boolean {
  if (f.speaker_id && !f.speaker_id.includes(r.speaker_id ?? '')) return false;
  if (f.subset && !f.subset.includes(r.subset ?? '')) return false;
  if (f.chapter_id && !f.chapter_id.includes(r.chapter_id ?? '')) return false;
  if (f.min_duration !== undefined && !(r.duration_s !== null && r.duration_s >= f.min_duration)) return false;
  if (f.max_duration !== undefined && !(r.duration_s !== null && r.duration_s <= f.max_duration)) return false;
  if (f.min_snr_db !== undefined && !(r.snr_db !== null && r.snr_db >= f.min_snr_db)) return false;
  if (f.max_peak_dbfs !== undefined && !(r.peak_dbfs !== null && r.peak_dbfs <= f.max_peak_dbfs)) return false;
  if (f.clipped === true && !(r.clipped_samples !== null && r.clipped_samples > 0)) return false;
  if (f.clipped === false && r.clipped_samples !== 0) return false;
  if (f.only === 'failed' && !r.error) return false;
  if (f.only === 'ok' && r.error) return false;
  if (f.q !== undefined) {
    const have = new Set([...words(r.text_normalized), ...words(r.text_original)]);
    const want = [...words(f.q)];
    if (!want.length || !want.every((w) => have.has(w))) return false;
  }
  return true;
}

const sortValue = (r: FileResult, key: ResultSort['key']): number | string | null =>
  key === 'speaker_id' ? (r.speaker_id === null ? null : r.speaker_id.padStart(18, '0')) : (r[key] as number | string | null);

/** The sort, applied in the test: values in order (nulls last), ties by path in the same direction. */
function ordered(rows: FileResult[], sort: ResultSort): FileResult[] {
  const dir = sort.desc ? -1 : 1;
  const cmpPath = (a: FileResult, b: FileResult) => dir * Buffer.compare(Buffer.from(a.path), Buffer.from(b.path));
  return [...rows].sort((a, b) => {
    if (sort.key === 'path') return cmpPath(a, b);
    const va = sortValue(a, sort.key);
    const vb = sortValue(b, sort.key);
    if (va === null || vb === null) return va === vb ? cmpPath(a, b) : va === null ? 1 : -1;
    if (va !== vb) return dir * (va < vb ? -1 : 1);
    return cmpPath(a, b);
  });
}

describe.each(engines)('store contract, filters and sorts: %s', (_name, open) => {
  let s: Stores;
  let taskId: string;
  const rows = libraryRows(600);
  beforeAll(async () => {
    s = await open();
    const t = newTask();
    await s.tasks.insertTask(t, t.first);
    taskId = t.snapshot.task_id;
    for (let i = 0; i < rows.length; i += 100) await s.results.insertResults(taskId, rows.slice(i, i + 100));
  });
  afterAll(async () => {
    await s.close();
  });

  const filters: [string, ResultFilter][] = [
    ['none', {}],
    ['speaker', { speaker_id: ['84', '1034'] }],
    ['subset + chapter', { subset: ['dev-clean', 'train-clean-100'], chapter_id: ['1001'] }],
    ['duration window', { min_duration: 6, max_duration: 12 }],
    ['duration bound inclusive', { min_duration: 10, max_duration: 10 }],
    ['snr', { min_snr_db: 25 }],
    ['peak', { max_peak_dbfs: -6 }],
    ['clipped', { clipped: true }],
    ['not clipped', { clipped: false }],
    ['failed only', { only: 'failed' }],
    ['search one word, any case', { q: 'RIVER' }],
    ['search all words', { q: 'golden morning' }],
    ['search with accents and apostrophes', { q: 'café don’t' }],
    ['search of a composed accent finds it decomposed too', { q: 'CAFÉ' }],
    ['search of a decomposed accent finds it composed too', { q: 'e\u0301clair re\u0301sume\u0301' }],
    ['search of a word with vowel signs (Devanagari)', { q: 'हिन्दी' }],
    ['search of two Devanagari words', { q: 'कविता हिन्दी' }],
    ['search no such word', { q: 'nowhere' }],
    ['search of punctuation only', { q: '!!!' }],
    ['everything', { speaker_id: ['19', '84', '100'], min_duration: 2, max_duration: 18, min_snr_db: 5, max_peak_dbfs: -1, clipped: false, q: 'whisper', only: 'ok' }],
  ];
  const sorts: ResultSort[] = [
    { key: 'path', desc: false },
    { key: 'path', desc: true },
    { key: 'duration_s', desc: false },
    { key: 'snr_db', desc: true },
    { key: 'rms_dbfs', desc: false },
    { key: 'peak_dbfs', desc: true },
    { key: 'speaker_id', desc: false },
  ];

  for (const [name, filter] of filters) {
    it(`filter “${name}”: the same rows and total as filtering in the test, under every sort, paged by 7`, async () => {
      const want = rows.filter((r) => matches(r, filter));
      expect(await s.results.count(taskId, filter)).toBe(want.length);
      for (const sort of sorts) {
        const got = await allPages(s, taskId, filter, sort, 7);
        expect(
          got.map((r) => r.path),
          `${name}, sort ${sort.desc ? '-' : ''}${sort.key}`,
        ).toEqual(ordered(want, sort).map((r) => r.path));
      }
    });
  }
});
