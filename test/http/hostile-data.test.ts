import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileResult } from '../../src/domain/file-result.ts';
import { tempDir } from '../helpers/libritts-tree.ts';
import { BASE, startTestService, type TestService } from '../helpers/service.ts';
import { float32, rawWav, toneWav } from '../helpers/wav.ts';

/** Messy datasets, scanned through HTTP: names that are not UTF-8, odd samples, odd chunk layouts. */

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  await svc.close();
});

async function scan(root: string, analysis: 'header' | 'full' = 'full') {
  const id = await svc.startScan({ libritts_path: root, analysis });
  const done = await svc.waitDone(id);
  const jsonl = await (await svc.request(`${BASE}/scan-results/${id}?format=jsonl`)).text();
  const rows = jsonl.trim()
    ? jsonl
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as FileResult)
    : [];
  return { id, done, rows, byPath: new Map(rows.map((r) => [r.path, r])) };
}

const bytePath = (root: string, ...parts: (string | number[])[]) =>
  Buffer.concat([Buffer.from(root, 'utf8'), ...parts.flatMap((p) => [Buffer.from('/'), typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p)])]);

describe('file names that are not UTF-8', () => {
  it('two valid WAVs differing in one invalid byte are two good rows with distinct paths; counts equal rows', async () => {
    const root = tempDir('vl-names-');
    const chapter = bytePath(root, 'dev-clean', '84', '121123');
    fs.mkdirSync(chapter, { recursive: true });
    const name = (b: number) => [...Buffer.from('84_121123_000007_00000'), b, ...Buffer.from('.wav')];
    fs.writeFileSync(bytePath(root, 'dev-clean', '84', '121123', name(0xe9)), toneWav({ durationS: 0.2 }));
    fs.writeFileSync(bytePath(root, 'dev-clean', '84', '121123', name(0xe8)), toneWav({ durationS: 0.3 }));
    // Its transcript has the same bytes in its name: it is found through them.
    fs.writeFileSync(bytePath(root, 'dev-clean', '84', '121123', [...name(0xe9).slice(0, -4), ...Buffer.from('.normalized.txt')]), 'Bytes, not text.');
    for (let i = 0; i < 12; i++) fs.writeFileSync(path.join(root, 'dev-clean', `plain-${i}.wav`), toneWav({ durationS: 0.05 }));
    fs.writeFileSync(path.join(root, 'dev-clean', 'back\\slash.wav'), toneWav({ durationS: 0.05 }));

    const { done, rows, byPath } = await scan(root);
    expect(done).toMatchObject({ status: 'completed', files_done: 15, files_failed: 0 });
    expect(rows).toHaveLength(15);
    expect(new Set(rows.map((r) => r.path)).size).toBe(15);
    const e9 = byPath.get('dev-clean/84/121123/84_121123_000007_00000\\xe9.wav')!;
    const e8 = byPath.get('dev-clean/84/121123/84_121123_000007_00000\\xe8.wav')!;
    expect(e9).toMatchObject({ error: null, duration_s: 0.2, text_normalized: 'Bytes, not text.' });
    expect(e8).toMatchObject({ error: null, duration_s: 0.3 });
    expect(byPath.get('dev-clean/back\\\\slash.wav')).toMatchObject({ error: null });
    // The CSV export holds the same distinct paths.
    const csv = await (await svc.request(`${BASE}/scan-results/${(await scan(root, 'header')).id}?format=csv`)).text();
    expect(csv).toContain('84_121123_000007_00000\\xe9.wav');
    expect(csv).toContain('84_121123_000007_00000\\xe8.wav');
  });
});

describe('float samples that are not numbers', () => {
  const loud = (bad: number) => rawWav({ formatTag: 3, bitsPerSample: 32, data: float32([...Array(999).fill(0.5), bad]) });

  it('NaN, ±Inf and absurd values are counted as clipped and left out of the levels; a loud file never reads as silence', async () => {
    const root = tempDir('vl-float-');
    fs.writeFileSync(path.join(root, 'nan.wav'), loud(NaN));
    fs.writeFileSync(path.join(root, 'inf.wav'), loud(Infinity));
    fs.writeFileSync(path.join(root, 'neg-inf.wav'), loud(-Infinity));
    fs.writeFileSync(path.join(root, 'huge.wav'), rawWav({ formatTag: 3, bitsPerSample: 64, data: Buffer.from(new Float64Array([...Array(999).fill(0.5), 1e300]).buffer) }));
    fs.writeFileSync(path.join(root, 'all-nan.wav'), rawWav({ formatTag: 3, bitsPerSample: 32, data: float32(Array(100).fill(NaN)) }));
    const { byPath } = await scan(root);
    for (const name of ['nan.wav', 'inf.wav', 'neg-inf.wav', 'huge.wav']) {
      expect(byPath.get(name), name).toMatchObject({ error: null, peak_dbfs: -6.02, rms_dbfs: -6.02, dc_offset: 0.5, clipped_samples: 1, leading_silence_s: 0 });
    }
    // Nothing measurable at all: every sample clipped, no level, and not reported as silence.
    expect(byPath.get('all-nan.wav')).toMatchObject({ error: null, clipped_samples: 100, peak_dbfs: -200, leading_silence_s: 0, trailing_silence_s: 0 });
  });
});

describe('chunk layouts that are odd but valid', () => {
  it('a WAV with 5,000 small chunks before its samples is read, not called TRUNCATED', async () => {
    const root = tempDir('vl-chunks-');
    const chunks: [string, Uint8Array][] = Array.from({ length: 5000 }, (_, i) => ['junk', Buffer.alloc(i % 3)]);
    fs.writeFileSync(path.join(root, 'many.wav'), rawWav({ data: Buffer.alloc(4800), chunksBeforeData: chunks }));
    const { byPath } = await scan(root, 'header');
    expect(byPath.get('many.wav')).toMatchObject({ error: null, frames: 2400, sample_rate: 24000 });
  });

  it('an odd-sized chunk written without its pad byte is followed where the writer put the next one', async () => {
    const root = tempDir('vl-chunks-');
    fs.writeFileSync(
      path.join(root, 'nopad.wav'),
      rawWav({ data: Buffer.alloc(4800), chunksBeforeData: [['LIST', Buffer.from('INFOISFT\x05\x00\x00\x00Lavf\x00', 'latin1')]], noPad: true }),
    );
    fs.writeFileSync(path.join(root, 'pad.wav'), rawWav({ data: Buffer.alloc(4800), chunksBeforeData: [['LIST', Buffer.from('INFOISFT\x05\x00\x00\x00Lavf\x00', 'latin1')]] }));
    const { byPath } = await scan(root, 'full');
    expect(byPath.get('nopad.wav')).toMatchObject({ error: null, frames: 2400, peak_dbfs: -200 });
    expect(byPath.get('pad.wav')).toMatchObject({ error: null, frames: 2400 });
  });
});

describe('folders that cannot be listed', () => {
  it('a folder past PATH_MAX is a failed row of its own (READ_ERROR, its path and a /), counted, in every analysis and in a rescan, never silently missing', async () => {
    const root = fs.realpathSync(tempDir('vl-deep-'));
    fs.writeFileSync(path.join(root, 'a.wav'), toneWav({ durationS: 0.1 }));
    const name = 'd'.repeat(250);
    execFileSync('bash', ['-c', `cd "$1" && for i in $(seq 20); do mkdir ${name} && cd ${name}; done && cp "$1/a.wav" deepest.wav && touch -d '1 hour ago' "$1/a.wav"`, '-', root]);
    let rel = name;
    while (Buffer.byteLength(`${root}/${rel}/${name}`) < 4096) rel += `/${name}`;
    const folder = `${rel}/${name}/`;
    for (const [analysis, reuse] of [
      ['header', 'none'],
      ['full', 'none'],
      ['header', 'auto'],
    ] as const) {
      const id = await svc.startScan({ libritts_path: root, analysis, reuse });
      const done = await svc.waitDone(id);
      const rows = (await (await svc.request(`${BASE}/scan-results/${id}?only=failed`)).json()) as { items: FileResult[]; total: number };
      expect(done.status, `${analysis}/${reuse}`).toBe('completed');
      expect(rows.items.map((r) => [r.path, r.error, r.speaker_id, r.subset])).toEqual([[folder, { code: 'READ_ERROR', detail: 'cannot list folder (ENAMETOOLONG)' }, null, null]]);
      expect([done.files_total, done.files_done, done.files_failed, done.files_reused], `${analysis}/${reuse}`).toEqual([2, 2, 1, reuse === 'auto' ? 1 : 0]);
    }
  });
});
