import type { SpeakerDetail } from '../../src/http/responses.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileResult } from '../../src/domain/file-result.ts';
import { BASE, startTestService, type TestService } from '../helpers/service.ts';
import { TOLERANCE_DB, TRUE_SNRS } from '../helpers/speech.ts';
import { makeVoiceTree, type VoiceTree } from '../helpers/voice-tree.ts';

/**
 * The voice library over HTTP, on speech-like clips of known quality: snr_db end to end, result
 * filters and sorts against rows filtered here, and each speaker's reference clips.
 */

let svc: TestService;
let tree: VoiceTree;
let full: string;
let header: string;
let rows: FileResult[];

interface Page {
  items: FileResult[];
  next_cursor: string | null;
  total: number;
}

beforeAll(async () => {
  tree = makeVoiceTree();
  svc = await startTestService();
  full = await svc.startScan({ libritts_path: tree.root, analysis: 'full' });
  header = await svc.startScan({ libritts_path: tree.root, analysis: 'header' });
  await svc.waitDone(full);
  await svc.waitDone(header);
  const res = await svc.request(`${BASE}/scan-results/${full}?format=jsonl`);
  rows = (await res.text())
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as FileResult);
}, 120_000);
afterAll(async () => {
  await svc?.close();
  tree?.cleanup();
});

const get = async <T>(url: string): Promise<{ status: number; body: T }> => {
  const res = await svc.request(url);
  return { status: res.status, body: (await res.json()) as T };
};
const row = (rel: string): FileResult => rows.find((r) => r.path === rel)!;

describe('snr_db through a full scan', () => {
  it(`reads speech with white noise at ${TRUE_SNRS.join(', ')} dB within ±${TOLERANCE_DB} dB and in order; clean speech ≥ 35 dB`, () => {
    const table: string[] = [];
    for (const speaker of tree.ladder) {
      const clips = tree.clips.filter((c) => c.speaker === speaker);
      const clean = clips.find((c) => c.trueSnrDb === null)!;
      expect(row(clean.rel).snr_db, `speaker ${speaker} clean`).toBeGreaterThanOrEqual(35);
      const noisy = clips.filter((c) => c.trueSnrDb !== null).sort((a, b) => a.trueSnrDb! - b.trueSnrDb!);
      const got = noisy.map((c) => row(c.rel).snr_db);
      table.push(`${speaker}: clean→${row(clean.rel).snr_db} ${noisy.map((c, i) => `${c.trueSnrDb}→${got[i]}`).join(' ')}`);
      noisy.forEach((c, i) => {
        expect(got[i], `speaker ${speaker} at ${c.trueSnrDb} dB`).not.toBeNull();
        expect(Math.abs(got[i]! - c.trueSnrDb!), `speaker ${speaker} at ${c.trueSnrDb} dB read ${got[i]}`).toBeLessThanOrEqual(TOLERANCE_DB);
        if (i > 0) expect(got[i]!, `speaker ${speaker}: ${c.trueSnrDb} dB above ${noisy[i - 1]!.trueSnrDb} dB`).toBeGreaterThan(got[i - 1]!);
      });
    }
    console.log(`snr_db through the scan (true→read):\n${table.join('\n')}`);
  });

  it('a header-only scan leaves snr_db null; a file that fails has none', async () => {
    const { body } = await get<Page>(`${BASE}/scan-results/${header}?limit=1000`);
    expect(body.items.length).toBe(rows.length);
    expect(body.items.every((r) => r.snr_db === null)).toBe(true);
    expect(row(tree.corrupt[0]!).snr_db).toBeNull();
    expect(row(tree.corrupt[0]!).error).not.toBeNull();
  });
});

/** The filters of API.md, applied here to the rows of the JSONL download. */
type Query = Record<string, string>;
const words = (s: string | null): string[] =>
  (s ?? '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);

function matches(r: FileResult, q: Query): boolean {
  const inList = (v: string | null, list?: string) => list === undefined || (v !== null && list.split(',').includes(v));
  const atLeast = (v: number | null, bound?: string) => bound === undefined || (v !== null && v >= Number(bound));
  const atMost = (v: number | null, bound?: string) => bound === undefined || (v !== null && v <= Number(bound));
  if (!inList(r.speaker_id, q.speaker_id) || !inList(r.subset, q.subset) || !inList(r.chapter_id, q.chapter_id)) return false;
  if (!atLeast(r.duration_s, q.min_duration) || !atMost(r.duration_s, q.max_duration)) return false;
  if (!atLeast(r.snr_db, q.min_snr_db) || !atMost(r.peak_dbfs, q.max_peak_dbfs)) return false;
  if (q.clipped === 'true' && !(r.clipped_samples !== null && r.clipped_samples > 0)) return false;
  if (q.clipped === 'false' && r.clipped_samples !== 0) return false;
  if (q.only === 'failed' && !r.error) return false;
  if (q.only === 'ok' && r.error) return false;
  if (q.q !== undefined) {
    const have = new Set([...words(r.text_normalized), ...words(r.text_original)]);
    if (!words(q.q).every((w) => have.has(w))) return false;
  }
  return true;
}

function sorted(list: FileResult[], sort = 'path'): FileResult[] {
  const desc = sort.startsWith('-');
  const key = sort.replace(/^-/, '') as keyof FileResult;
  const byPath = (a: FileResult, b: FileResult) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) * (desc ? -1 : 1);
  return [...list].sort((a, b) => {
    const va = a[key] as number | string | null;
    const vb = b[key] as number | string | null;
    if (va === null || vb === null) return va === vb ? byPath(a, b) : va === null ? 1 : -1; // nulls last, both ways
    if (va !== vb) return (va < vb ? -1 : 1) * (desc ? -1 : 1);
    return byPath(a, b);
  });
}

async function pageAll(q: Query, limit: number): Promise<{ paths: string[]; totals: Set<number>; pages: number }> {
  const paths: string[] = [];
  const totals = new Set<number>();
  let cursor: string | null = null;
  let pages = 0;
  do {
    const params = new URLSearchParams({ ...q, limit: String(limit), ...(cursor ? { cursor } : {}) });
    const { status, body } = await get<Page>(`${BASE}/scan-results/${full}?${params}`);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.items.length).toBeLessThanOrEqual(limit);
    paths.push(...body.items.map((r) => r.path));
    totals.add(body.total);
    cursor = body.next_cursor;
    pages++;
    expect(pages).toBeLessThan(200);
  } while (cursor);
  return { paths, totals, pages };
}

const FILTERS: Query[] = [
  {},
  { speaker_id: '201,300' },
  { subset: 'test-clean' },
  { chapter_id: '20' },
  { min_duration: '6', max_duration: '12' },
  { min_duration: '8' },
  { max_duration: '4' },
  { min_snr_db: '20' },
  { max_peak_dbfs: '-6' },
  { clipped: 'true' },
  { clipped: 'false', min_snr_db: '15' },
  { only: 'failed' },
  { q: 'Bravo' },
  { q: 'alpha delta' },
  { q: 'alph' },
  { q: 'ECHO bravo', speaker_id: '300', min_duration: '6', max_duration: '12', clipped: 'false' },
];
const SORTS = ['path', '-path', 'duration_s', '-snr_db', 'rms_dbfs', '-peak_dbfs', 'speaker_id', '-speaker_id', 'snr_db'];

describe('result filters and sorts', () => {
  it('the test data has something for every filter to keep and to drop', () => {
    for (const q of FILTERS.slice(1)) {
      const kept = rows.filter((r) => matches(r, q)).length;
      if (q.q === 'alph') expect(kept, 'a word prefix matches nothing').toBe(0);
      else expect(kept, JSON.stringify(q)).toBeGreaterThan(0);
      expect(kept, JSON.stringify(q)).toBeLessThan(rows.length);
    }
  });

  for (const q of FILTERS) {
    it(`${JSON.stringify(q)} under every sort: each matching row once, in order, with the total`, async () => {
      const expected = rows.filter((r) => matches(r, q));
      for (const sort of SORTS) {
        const { paths, totals, pages } = await pageAll({ ...q, sort }, 4);
        expect(paths, `sort=${sort}`).toEqual(sorted(expected, sort).map((r) => r.path));
        expect([...totals], `sort=${sort}`).toEqual([expected.length]);
        expect(pages).toBe(Math.max(1, Math.ceil(expected.length / 4)));
      }
    });
  }

  it('the downloads take the same filters and sort', async () => {
    const q = { min_snr_db: '10', sort: '-snr_db', speaker_id: '201,202,300' };
    const expected = sorted(
      rows.filter((r) => matches(r, q)),
      q.sort,
    ).map((r) => r.path);
    const jsonl = await (await svc.request(`${BASE}/scan-results/${full}?format=jsonl&${new URLSearchParams(q)}`)).text();
    expect(
      jsonl
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as FileResult).path),
    ).toEqual(expected);
    const csv = (await (await svc.request(`${BASE}/scan-results/${full}?format=csv&${new URLSearchParams(q)}`)).text()).trimEnd().split(/\r?\n/);
    expect(csv.length).toBe(expected.length + 1);
    expect(csv.slice(1).map((l) => l.split(',')[0])).toEqual(expected);
  });

  it('a cursor belongs to its sort: reusing it under another sort is a 400', async () => {
    const { body } = await get<Page>(`${BASE}/scan-results/${full}?sort=-snr_db&limit=2`);
    const other = await get<{ code: string }>(`${BASE}/scan-results/${full}?sort=duration_s&limit=2&cursor=${body.next_cursor}`);
    expect(other.status).toBe(400);
    expect(other.body.code).toBe('VALIDATION_FAILED');
  });

  it("a cursor's total cannot be forged: a changed total is counted again, not reported (nor used to pick the plan)", async () => {
    const q = 'min_snr_db=-100&limit=1';
    const first = (await get<Page>(`${BASE}/scan-results/${full}?${q}`)).body;
    const cursor = JSON.parse(Buffer.from(first.next_cursor!, 'base64url').toString('utf8')) as { t: number };
    expect(cursor.t).toBe(first.total);
    const forged = Buffer.from(JSON.stringify({ ...cursor, t: 1 }), 'utf8').toString('base64url');
    const page = await get<Page>(`${BASE}/scan-results/${full}?${q}&cursor=${forged}`);
    expect(page.status).toBe(200);
    expect(page.body.total).toBe(first.total);
  });

  it("a cursor's total belongs to its task: on another task with the same filter, that task's own total", async () => {
    // `full` and `header`: two ended scans of one tree, told apart by a filter on the SNR (a header scan has none).
    const q = 'min_snr_db=-100&limit=1';
    const a = (await get<Page>(`${BASE}/scan-results/${full}?${q}`)).body;
    const b = (await get<Page>(`${BASE}/scan-results/${header}?${q}`)).body;
    expect(a.total).toBeGreaterThan(1);
    expect(b.total).toBe(0);
    const reused = await get<Page>(`${BASE}/scan-results/${header}?${q}&cursor=${a.next_cursor}`);
    expect(reused.status).toBe(200);
    expect(reused.body.total).toBe(0);
  });

  it.each([
    ['sort=loudness', 'sort'],
    ['sort=--path', 'sort'],
    ['min_duration=abc', 'min_duration'],
    ['max_duration=1e999', 'max_duration'],
    ['min_snr_db=', 'min_snr_db'],
    ['max_peak_dbfs=NaN', 'max_peak_dbfs'],
    ['clipped=yes', 'clipped'],
    ['q=', 'q'],
    ['q=%21%3F%20-', 'q'],
    ['min_duration=5&max_duration=2', 'min_duration'],
    [`q=${'a'.repeat(501)}`, 'q'],
    // 33 words: a search cut at 32 would find rows without the 33rd (it once did).
    [`q=${Array.from({ length: 33 }, (_, i) => `w${i}`).join('+')}`, 'q'],
    ['only=some', 'only'],
    ['limit=0', 'limit'],
    ['cursor=not-a-cursor', 'cursor'],
  ])('?%s → 400 VALIDATION_FAILED naming %s', async (query, field) => {
    const { status, body } = await get<{ code: string; issues: { path: string }[] }>(`${BASE}/scan-results/${full}?${query}`);
    expect(status).toBe(400);
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.issues.map((d) => d.path)).toContain(field);
  });
});

const speaker = (task: string, id: string, query = '') => get<SpeakerDetail>(`${BASE}/scan-speakers/${task}/${id}${query}`);
const kindOf = (p: string) => tree.clips.find((c) => c.rel === p)?.kind;

describe('GET /scan-speakers/:task_id/:speaker_id', () => {
  it('ranks the eligible clips by snr_db, best first, with score = snr/40 and a playable URL', async () => {
    const { status, body } = await speaker(full, tree.rules);
    expect(status).toBe(200);
    expect(body).toMatchObject({ speaker_id: tree.rules, name: `Voice ${tree.rules}`, subsets: ['dev-clean'], quality: 'full', failed: 1 });
    expect(body.utterances).toBe(tree.clips.filter((c) => c.speaker === tree.rules).length);
    expect(body.reference_clips.map((c) => kindOf(c.path))).toEqual(['eligible 25 dB', 'eligible 18 dB', 'eligible 12 dB']);
    for (const c of body.reference_clips) {
      expect(c.eligible).toBe(true);
      expect(c.why).toBeNull();
      expect(c.score).toBeCloseTo(Math.min(1, c.snr_db! / 40), 2);
      expect(c.text_normalized).toBe(row(c.path).text_normalized);
      const audio = await svc.request(c.audio_url, { headers: { range: 'bytes=0-11' } });
      expect(audio.status).toBe(206);
      expect(Buffer.from(await audio.arrayBuffer()).toString('latin1')).toMatch(/^RIFF....WAVE$/s);
    }
  });

  it('each rule keeps its clip out: duration window, transcript, clipping, peak, RMS, silence, errors', async () => {
    const { body } = await speaker(full, tree.rules, '?n=20');
    const picked = body.reference_clips.map((c) => kindOf(c.path));
    expect(picked).toHaveLength(3);
    for (const kind of ['too short (4 s)', 'too long (14 s)', 'no transcript', 'clipped', 'peak above −1 dBFS', 'RMS below −40 dBFS', 'leading silence 1.5 s'])
      expect(picked).not.toContain(kind);
  });

  it('?n, ?min_duration and ?max_duration widen and narrow the picks', async () => {
    expect((await speaker(full, tree.rules, '?n=1')).body.reference_clips.map((c) => kindOf(c.path))).toEqual(['eligible 25 dB']);
    // 3–15 s lets the short and long clips in; both read higher than the eligible ones (30 dB).
    const wide = await speaker(full, tree.rules, '?n=20&min_duration=3&max_duration=15');
    expect(new Set(wide.body.reference_clips.map((c) => kindOf(c.path)))).toEqual(
      new Set(['too short (4 s)', 'too long (14 s)', 'eligible 25 dB', 'eligible 18 dB', 'eligible 12 dB']),
    );
    const snrs = wide.body.reference_clips.map((c) => c.snr_db!);
    expect(snrs).toEqual([...snrs].sort((a, b) => b - a));
    const narrow = await speaker(full, tree.rules, '?min_duration=8.5&max_duration=9.5');
    expect(narrow.body.reference_clips.map((c) => kindOf(c.path))).toEqual(['eligible 12 dB']);
  });

  it('falls back to the closest clips, eligible: false with why, when none is eligible', async () => {
    const { status, body } = await speaker(full, tree.nothingEligible);
    expect(status).toBe(200);
    expect(body.reference_clips).toHaveLength(3);
    for (const c of body.reference_clips) {
      expect(c.eligible).toBe(false);
      expect(c.why).toBeTruthy();
    }
    // Fewest problems first: one problem each for the short and the clipped clip, two for the long clipped one.
    expect(body.reference_clips.map((c) => kindOf(c.path))[2]).toBe('too long (20 s) and clipped');
    expect(body.reference_clips.find((c) => kindOf(c.path) === 'too short (3 s)')!.why).toMatch(/duration .* outside 6–12 s/);
    expect(body.reference_clips.find((c) => kindOf(c.path) === 'clipped')!.why).toMatch(/clipped samples/);
  });

  it('a header-only scan ranks by duration alone and says quality: "header"', async () => {
    const { body } = await speaker(header, tree.rules, '?n=20');
    expect(body.quality).toBe('header');
    expect(body.median_snr_db).toBeNull();
    // Levels are unknown: every clip in the window with a transcript and no error is eligible, longest first.
    const expected = tree.clips
      .filter((c) => c.speaker === tree.rules && c.text !== null)
      .map((c) => row(c.rel))
      .filter((r) => r.duration_s! >= 6 && r.duration_s! <= 12)
      .sort((a, b) => b.duration_s! - a.duration_s! || (a.path < b.path ? -1 : 1));
    expect(body.reference_clips.map((c) => c.path)).toEqual(expected.map((r) => r.path));
    for (const c of body.reference_clips) {
      expect(c.snr_db).toBeNull();
      expect(c.score).toBeCloseTo(Math.min(1, c.duration_s! / 12), 2);
    }
  });

  it('the speakers list gains median_snr_db and reference_clip, matching the detail', async () => {
    const { body } = await get<{ items: { speaker_id: string; median_snr_db: number | null; reference_clip: string | null }[] }>(`${BASE}/scan-speakers/${full}`);
    for (const id of [...tree.ladder, tree.rules]) {
      const item = body.items.find((s) => s.speaker_id === id)!;
      const detail = (await speaker(full, id)).body;
      expect(item.median_snr_db, id).toBe(detail.median_snr_db);
      const snrs = rows.filter((r) => r.speaker_id === id && r.snr_db !== null).map((r) => r.snr_db!);
      snrs.sort((a, b) => a - b);
      const mid = snrs.length >> 1;
      // Rounded to 0.1 dB.
      expect(Math.abs(item.median_snr_db! - (snrs.length % 2 ? snrs[mid]! : (snrs[mid - 1]! + snrs[mid]!) / 2)), id).toBeLessThanOrEqual(0.05 + 1e-9);
      expect(detail.reference_clip, id).toBe(item.reference_clip);
    }
    expect(body.items.find((s) => s.speaker_id === tree.rules)!.reference_clip).toBe(tree.clips.find((c) => c.kind === 'eligible 25 dB')!.rel);
  });

  it('an unknown speaker is 404 SPEAKER_NOT_FOUND; bad parameters are 400', async () => {
    const missing = await get<{ code: string }>(`${BASE}/scan-speakers/${full}/99999`);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('SPEAKER_NOT_FOUND');
    for (const q of ['?n=0', '?n=21', '?n=x', '?min_duration=-1', '?min_duration=10&max_duration=5', '?max_duration=abc']) {
      const bad = await get<{ code: string }>(`${BASE}/scan-speakers/${full}/${tree.rules}${q}`);
      expect(bad.status, q).toBe(400);
      expect(bad.body.code, q).toBe('VALIDATION_FAILED');
    }
  });
});
