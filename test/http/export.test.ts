import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startChildServer } from '../helpers/child-server.ts';
import { tempDir } from '../helpers/libritts-tree.ts';
import { BASE, startTestService, type TestService } from '../helpers/service.ts';
import { writeSyntheticTask } from '../helpers/synthetic-task.ts';
import { toneWav } from '../helpers/wav.ts';

/**
 * GET /scan-export: each manifest read back by a reader written to its toolkit's published format
 * (system `tar`, `gzip`, `LC_ALL=C sort`, Python's csv module, JSON Lines), never by our writers.
 */

interface Clip {
  rel: string;
  speaker: string;
  normalized: string | null;
  original: string | null;
  durationS: number;
  channels?: number;
  bitDepth?: string;
}

// Speakers 84 and 840: with `_` after the speaker, Kaldi's utterance order and speaker order disagree.
const CLIPS: Clip[] = [
  { rel: 'dev-clean/84/121123/84_121123_000007_000001.wav', speaker: '84', normalized: 'Hello world.', original: 'Hello, world!', durationS: 1.2 },
  {
    rel: 'dev-clean/84/121123/84_121123_000008_000000.wav',
    speaker: '84',
    normalized: 'He said "stop" | then\nleft.',
    original: '"Stop!" he said |\r\n then\tleft.',
    durationS: 2.5,
  },
  { rel: 'dev-clean/840/1/840_1_000001_000000.wav', speaker: '840', normalized: 'Eight forty.', original: 'Eight-forty.', durationS: 3.1 },
  { rel: 'dev-clean/840/1/840_1_000002_000000.wav', speaker: '840', normalized: 'Short one.', original: 'Short one!', durationS: 0.6 },
  { rel: 'test-clean/1034/5/1034_5_000001_000000.wav', speaker: '1034', normalized: 'Two channels.', original: 'Two channels!', durationS: 1.7, channels: 2, bitDepth: '24' },
  { rel: 'test-clean/1034/5/1034_5_000002_000000.wav', speaker: '1034', normalized: null, original: null, durationS: 1 },
];
const NO_TEXT = CLIPS[5]!.rel;
const CORRUPT = 'test-clean/1034/5/1034_5_000003_000000.wav';
const GENDER: Record<string, string> = { '84': 'F', '840': 'M', '1034': 'F' };
/** The clips a manifest holds: a transcript, no error. */
const EXPORTED = CLIPS.filter((c) => c.normalized !== null);
const clean = (s: string, pipe = false) => (pipe ? s.replace(/\|/g, ' ') : s).replace(/\s+/g, ' ').trim();

let svc: TestService;
let root: string;
let task: string;

beforeAll(async () => {
  root = fs.realpathSync(tempDir('vl-export-tree-'));
  for (const c of CLIPS) {
    const file = path.join(root, c.rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, toneWav({ durationS: c.durationS, channels: c.channels ?? 1, bitDepth: c.bitDepth ?? '16', sampleRate: 24000 }));
    const stem = file.replace(/\.wav$/, '');
    if (c.normalized !== null) fs.writeFileSync(`${stem}.normalized.txt`, c.normalized);
    if (c.original !== null) fs.writeFileSync(`${stem}.original.txt`, c.original);
  }
  fs.writeFileSync(path.join(root, CORRUPT), 'not a wav');
  fs.writeFileSync(
    path.join(root, 'speakers.tsv'),
    ['READER\tGENDER\tSUBSET\tNAME', ...Object.entries(GENDER).map(([s, g]) => `${s}\t${g}\tdev-clean\tReader ${s}`)].join('\n') + '\n',
  );
  svc = await startTestService();
  task = await svc.startScan({ libritts_path: root, analysis: 'full' });
  await svc.waitDone(task);
});
afterAll(async () => {
  await svc?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

async function exportOf(query: string): Promise<{ res: Response; body: Buffer }> {
  const res = await svc.request(`${BASE}/scan-export/${task}?${query}`);
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

/** The members of a tar, extracted by the system's tar. */
function untar(body: Buffer): Map<string, Buffer> {
  const dir = tempDir('vl-untar-');
  fs.writeFileSync(path.join(dir, 'x.tar'), body);
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  const r = spawnSync('tar', ['-xf', path.join(dir, 'x.tar'), '-C', out], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return new Map(fs.readdirSync(out).map((f) => [f, fs.readFileSync(path.join(out, f))]));
}

const jsonLines = (text: string): Record<string, unknown>[] => {
  expect(text.endsWith('\n')).toBe(true);
  const lines = text.slice(0, -1).split('\n');
  for (const l of lines) expect(l.trim(), 'no blank lines').not.toBe('');
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
};

/** `LC_ALL=C sort -c`: exits 0 when the file is sorted in C-locale byte order. */
function cSorted(text: string, args: string[] = []): boolean {
  return spawnSync('sort', ['-c', ...args], { input: text, env: { ...process.env, LC_ALL: 'C' } }).status === 0;
}

/** Python's csv module with `|` as the delimiter, as pandas' default quoting reads it. */
function pipeCsv(text: string): string[][] {
  const r = spawnSync('python3', ['-c', 'import csv, json, sys\nprint(json.dumps(list(csv.reader(sys.stdin, delimiter="|"))))'], { input: text, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as string[][];
}

describe('GET /scan-export', () => {
  it('nemo: JSONL with absolute paths that exist, exact durations, speakers 0…N−1 in id order', async () => {
    const { res, body } = await exportOf('format=nemo');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${task}-nemo-manifest.jsonl"`);
    const lines = jsonLines(body.toString('utf8'));
    expect(lines.map((l) => l.audio_filepath)).toEqual(EXPORTED.map((c) => path.join(root, c.rel)));
    for (const [i, l] of lines.entries()) {
      const c = EXPORTED[i]!;
      expect(fs.existsSync(l.audio_filepath as string)).toBe(true);
      expect(l.duration).toBeCloseTo(c.durationS, 6);
      expect(l.text).toBe(clean(c.normalized!));
      expect(l.normalized_text).toBe(clean(c.normalized!));
      expect(l.speaker_id).toBe(c.speaker);
    }
    // Numeric order: 84 → 0, 840 → 1, 1034 → 2.
    const map = new Map(lines.map((l) => [l.speaker_id, l.speaker]));
    expect([...map.entries()].sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
      ['84', 0],
      ['840', 1],
      ['1034', 2],
    ]);
  });

  it('lhotse: a tar of gzipped recordings and supervisions, num_samples = frames, one supervision per recording', async () => {
    const { res, body } = await exportOf('format=lhotse');
    expect(res.headers.get('content-type')).toBe('application/x-tar');
    expect(res.headers.get('content-disposition')).toContain(`${task}-lhotse.tar`);
    const files = untar(body);
    expect([...files.keys()].sort()).toEqual(['recordings.jsonl.gz', 'supervisions.jsonl.gz']);
    const recordings = jsonLines(zlib.gunzipSync(files.get('recordings.jsonl.gz')!).toString('utf8'));
    const supervisions = jsonLines(zlib.gunzipSync(files.get('supervisions.jsonl.gz')!).toString('utf8'));
    expect(recordings).toHaveLength(EXPORTED.length);
    expect(supervisions).toHaveLength(EXPORTED.length);
    const results = (await (await svc.request(`${BASE}/scan-results/${task}?limit=100`)).json()) as { items: { path: string; frames: number }[] };
    for (const [i, rec] of recordings.entries()) {
      const c = EXPORTED[i]!;
      const channels = Array.from({ length: c.channels ?? 1 }, (_, k) => k);
      expect(rec).toEqual({
        id: path.basename(c.rel, '.wav'),
        sources: [{ type: 'file', channels, source: path.join(root, c.rel) }],
        sampling_rate: 24000,
        num_samples: results.items.find((r) => r.path === c.rel)!.frames,
        duration: rec.duration,
        channel_ids: channels,
      });
      expect(rec.num_samples).toBe(Math.round(c.durationS * 24000));
      // Lhotse checks duration against num_samples / sampling_rate.
      expect(rec.duration).toBe((rec.num_samples as number) / 24000);
      const sup = supervisions[i]!;
      expect(sup).toMatchObject({
        id: rec.id,
        recording_id: rec.id,
        start: 0,
        duration: rec.duration,
        text: clean(c.normalized!),
        language: 'English',
        speaker: c.speaker,
        gender: GENDER[c.speaker],
      });
      expect(sup.channel).toEqual(channels.length === 1 ? 0 : channels);
      expect((sup.custom as { orig_text: string }).orig_text).toBe(clean(c.original!));
      expect(typeof (sup.custom as { snr: number }).snr).toBe('number');
    }
  });

  it('kaldi: five files in C-locale order, utterance ids prefixed by their speaker, consistent with the speaker order', async () => {
    const { res, body } = await exportOf('format=kaldi');
    expect(res.headers.get('content-disposition')).toContain(`${task}-kaldi.tar`);
    const files = untar(body);
    expect([...files.keys()].sort()).toEqual(['spk2gender', 'spk2utt', 'text', 'utt2spk', 'wav.scp']);
    const text = (name: string) => files.get(name)!.toString('utf8');
    const lines = (name: string) => text(name).trimEnd().split('\n');
    for (const name of files.keys()) {
      expect(text(name).endsWith('\n'), name).toBe(true);
      expect(cSorted(text(name)), `${name} is not LC_ALL=C sorted`).toBe(true);
    }
    for (const name of ['wav.scp', 'text', 'utt2spk']) expect(lines(name), name).toHaveLength(EXPORTED.length);
    const utt2spk = lines('utt2spk').map((l) => l.split(' ') as [string, string]);
    for (const [utt, spk] of utt2spk) expect(utt.startsWith(`${spk}-`), `${utt} starts with ${spk}`).toBe(true);
    // validate_data_dir.sh: sorting utt2spk by speaker must not change the utterance order.
    const bySpeaker = spawnSync('sort', ['-k2,2', '-s'], { input: text('utt2spk'), env: { ...process.env, LC_ALL: 'C' }, encoding: 'utf8' }).stdout;
    expect(bySpeaker).toBe(text('utt2spk'));
    // spk2utt is utt2spk_to_spk2utt.pl of utt2spk.
    const groups = new Map<string, string[]>();
    for (const [utt, spk] of utt2spk) groups.set(spk, [...(groups.get(spk) ?? []), utt]);
    expect(lines('spk2utt')).toEqual([...groups].map(([spk, utts]) => `${spk} ${utts.join(' ')}`).sort());
    expect(lines('spk2gender')).toEqual(['1034 f', '84 f', '840 m']);
    for (const l of lines('wav.scp')) {
      const [utt, ...rest] = l.split(' ');
      const file = rest.join(' ');
      expect(fs.existsSync(file), file).toBe(true);
      expect(utt).toBe(utt2spk.find(([u]) => file.endsWith(`${u.replace('-', '_')}.wav`))?.[0]);
    }
    // The transcript with a line break, a tab and a pipe stays on one line.
    expect(lines('text')).toContain(`84-121123_000008_000000 ${clean(CLIPS[1]!.normalized!)}`);
  });

  it('ljspeech: no header, id|text|normalized_text, no `|` inside a field', async () => {
    const { res, body } = await exportOf('format=ljspeech');
    expect(res.headers.get('content-disposition')).toContain(`${task}-ljspeech-metadata.csv`);
    const lines = body.toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(EXPORTED.length);
    for (const [i, l] of lines.entries()) {
      const cols = l.split('|');
      expect(cols, l).toHaveLength(3);
      const c = EXPORTED[i]!;
      expect(cols).toEqual([path.basename(c.rel, '.wav'), clean(c.original!, true), clean(c.normalized!, true)]);
    }
  });

  it('coqui: a header audio_file|text|speaker_name, paths relative to the root, read back exactly by a CSV reader', async () => {
    const { body } = await exportOf('format=coqui');
    const text = body.toString('utf8');
    const rows = pipeCsv(text);
    expect(rows[0]).toEqual(['audio_file', 'text', 'speaker_name']);
    expect(rows.slice(1)).toEqual(EXPORTED.map((c) => [c.rel, clean(c.normalized!, true), c.speaker]));
    for (const r of rows.slice(1)) expect(fs.existsSync(path.join(root, r[0]!))).toBe(true);
    // The column count check Coqui runs first: split('|') on every line.
    for (const l of text.trimEnd().split('\n')) expect(l.split('|')).toHaveLength(3);
  });

  it('audiofolder: metadata.jsonl with file_name relative to the root', async () => {
    const { res, body } = await exportOf('format=audiofolder');
    expect(res.headers.get('content-disposition')).toContain(`${task}-audiofolder-metadata.jsonl`);
    const lines = jsonLines(body.toString('utf8'));
    expect(lines.map((l) => l.file_name)).toEqual(EXPORTED.map((c) => c.rel));
    for (const [i, l] of lines.entries()) {
      expect(path.isAbsolute(l.file_name as string)).toBe(false);
      expect(fs.existsSync(path.join(root, l.file_name as string))).toBe(true);
      expect(l).toMatchObject({ transcription: clean(EXPORTED[i]!.normalized!), speaker_id: EXPORTED[i]!.speaker });
      expect(l.duration).toBeCloseTo(EXPORTED[i]!.durationS, 6);
    }
  });

  it('never exports failed rows or clips without a transcript, in any format', async () => {
    for (const format of ['nemo', 'lhotse', 'kaldi', 'ljspeech', 'coqui', 'audiofolder']) {
      const { body } = await exportOf(`format=${format}`);
      const all =
        format === 'lhotse' || format === 'kaldi'
          ? [...untar(body).entries()].map(([n, b]) => (n.endsWith('.gz') ? zlib.gunzipSync(b) : b).toString('utf8')).join('\n')
          : body.toString('utf8');
      for (const rel of [CORRUPT, NO_TEXT]) expect(all, `${format} holds ${rel}`).not.toContain(path.basename(rel, '.wav').replace(/^1034_/, ''));
    }
  });

  it('applies the result filters, path_prefix and text=original', async () => {
    const { body } = await exportOf('format=nemo&speaker_id=840,84&min_duration=1&path_prefix=/mnt/data/LibriTTS/&text=original');
    const lines = jsonLines(body.toString('utf8'));
    const expected = EXPORTED.filter((c) => ['84', '840'].includes(c.speaker) && c.durationS >= 1);
    expect(lines.map((l) => l.audio_filepath)).toEqual(expected.map((c) => `/mnt/data/LibriTTS/${c.rel}`));
    expect(lines.map((l) => l.text)).toEqual(expected.map((c) => clean(c.original!)));
    expect(lines.map((l) => l.normalized_text)).toEqual(expected.map((c) => clean(c.normalized!)));
    // The speaker index counts the exported speakers only.
    expect(lines.map((l) => l.speaker)).toEqual(expected.map((c) => (c.speaker === '84' ? 0 : 1)));
    const kaldi = untar((await exportOf('format=kaldi&q=forty&path_prefix=/mnt/x')).body);
    expect(kaldi.get('wav.scp')!.toString()).toBe(`840-1_000001_000000 /mnt/x/${CLIPS[2]!.rel}\n`);
    const sorted = jsonLines((await exportOf('format=audiofolder&sort=-duration_s')).body.toString('utf8'));
    expect(sorted.map((l) => l.file_name)).toEqual([...EXPORTED].sort((a, b) => b.durationS - a.durationS).map((c) => c.rel));
  });

  it.each([
    ['', 'format'],
    ['format=parquet', 'format'],
    ['format=nemo&path_prefix=relative/dir', 'path_prefix'],
    ['format=nemo&path_prefix=/a%0Ab', 'path_prefix'],
    ['format=kaldi&path_prefix=/a%E2%80%A8b', 'path_prefix'],
    ['format=kaldi&path_prefix=/a%C2%85b', 'path_prefix'],
    ['format=nemo&text=both', 'text'],
    ['format=nemo&min_duration=x', 'min_duration'],
    ['format=kaldi&min_duration=5&max_duration=1', 'min_duration'],
  ])('?%s → 400 VALIDATION_FAILED naming %s', async (query, field) => {
    const { res, body } = await exportOf(query);
    expect(res.status).toBe(400);
    const err = JSON.parse(body.toString()) as { code: string; issues: { path: string }[] };
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.issues.map((i) => i.path)).toContain(field);
  });

  it('an unknown task is 404 TASK_NOT_FOUND', async () => {
    const res = await svc.request(`${BASE}/scan-export/00000000-0000-4000-8000-000000000000?format=nemo`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'TASK_NOT_FOUND' });
  });
});

describe('exports name every file by its real name', () => {
  it('a backslash as itself; a name that is not UTF-8 left out, never written as its `\\xHH` text (the name of another file)', async () => {
    const dir = fs.realpathSync(tempDir('vl-export-names-'));
    // Three clips of different lengths: `back\slash.wav`, `lat<0xE9>.wav`, and one literally named `lat\xe9.wav`,
    // which is the text form of the second: a manifest that wrote that form would pair the second's text with the third's audio.
    const files: [Buffer, number][] = [
      [Buffer.from('back\\slash', 'utf8'), 1],
      [Buffer.concat([Buffer.from('lat'), Buffer.from([0xe9])]), 2],
      [Buffer.from('lat\\xe9', 'utf8'), 3],
    ];
    const base = Buffer.from(`${dir}/`);
    for (const [stem, durationS] of files) {
      const at = (ext: string) => Buffer.concat([base, stem, Buffer.from(ext)]);
      fs.writeFileSync(at('.wav'), toneWav({ durationS, sampleRate: 24000 }));
      fs.writeFileSync(at('.normalized.txt'), `clip of ${durationS} s`);
      fs.writeFileSync(at('.original.txt'), `Clip of ${durationS} s`);
    }
    const local = await startTestService();
    onTestFinished(async () => void (await local.close()));
    const t = await local.startScan({ libritts_path: dir, analysis: 'header' });
    await local.waitDone(t);
    const get = async (format: string) => Buffer.from(await (await local.request(`${BASE}/scan-export/${t}?format=${format}`)).arrayBuffer());
    // Every format names the same two files, each with its own duration.
    const want = [
      [path.join(dir, 'back\\slash.wav'), 1],
      [path.join(dir, 'lat\\xe9.wav'), 3],
    ];
    const check = (format: string, named: [string, number | null][]) => {
      expect(named.map(([f]) => f).sort(), format).toEqual(want.map(([f]) => f));
      for (const [f, d] of named) {
        expect(fs.existsSync(f), `${format}: ${f}`).toBe(true);
        if (d !== null) expect(d, `${format}: ${f}`).toBeCloseTo(want.find(([w]) => w === f)![1] as number, 6);
      }
    };
    check(
      'nemo',
      jsonLines((await get('nemo')).toString('utf8')).map((l) => [l.audio_filepath as string, l.duration as number]),
    );
    check(
      'audiofolder',
      jsonLines((await get('audiofolder')).toString('utf8')).map((l) => [path.join(dir, l.file_name as string), l.duration as number]),
    );
    check(
      'coqui',
      pipeCsv((await get('coqui')).toString('utf8'))
        .slice(1)
        .map((r) => [path.join(dir, r[0]!), null]),
    );
    const kaldi = untar(await get('kaldi'))
      .get('wav.scp')!
      .toString('utf8')
      .trimEnd()
      .split('\n');
    check(
      'kaldi',
      kaldi.map((l) => [l.slice(l.indexOf(' ') + 1), null]),
    );
    const recordings = zlib.gunzipSync(untar(await get('lhotse')).get('recordings.jsonl.gz')!).toString('utf8');
    check(
      'lhotse',
      jsonLines(recordings).map((r) => [(r.sources as { source: string }[])[0]!.source, r.duration as number]),
    );
  });
});

describe('clips a manifest can use', () => {
  it('ids unique across folders, no clip of zero samples, a blank normalized transcript replaced, no pipe-format line without text', async () => {
    const dir = fs.realpathSync(tempDir('vl-export-generic-'));
    // A dataset laid out by speaker folders, not LibriTTS: the same file name in two folders.
    const files: [string, number, string, string][] = [
      ['voices/alice/001', 1, 'alice one', 'Alice one.'],
      ['voices/bob/001', 2, 'bob one', 'Bob one.'],
      ['voices/carol/empty', 0, 'nothing at all', 'Nothing at all.'],
      ['voices/dave/blank', 1.5, '   ', 'Hello there.'],
      ['voices/erin/pipe', 0.5, '|', '|'],
    ];
    for (const [stem, durationS, normalized, original] of files) {
      fs.mkdirSync(path.dirname(path.join(dir, stem)), { recursive: true });
      fs.writeFileSync(path.join(dir, `${stem}.wav`), toneWav({ durationS, sampleRate: 16000 }));
      fs.writeFileSync(path.join(dir, `${stem}.normalized.txt`), normalized);
      fs.writeFileSync(path.join(dir, `${stem}.original.txt`), original);
    }
    const local = await startTestService();
    onTestFinished(async () => void (await local.close()));
    const t = await local.startScan({ libritts_path: dir, analysis: 'header' });
    await local.waitDone(t);
    const get = async (format: string) => Buffer.from(await (await local.request(`${BASE}/scan-export/${t}?format=${format}`)).arrayBuffer());
    const playable = ['voices/alice/001', 'voices/bob/001', 'voices/dave/blank', 'voices/erin/pipe'];

    const tar = untar(await get('lhotse'));
    const recordings = jsonLines(zlib.gunzipSync(tar.get('recordings.jsonl.gz')!).toString('utf8'));
    const supervisions = jsonLines(zlib.gunzipSync(tar.get('supervisions.jsonl.gz')!).toString('utf8'));
    expect(recordings.map((r) => r.id).sort()).toEqual(playable);
    expect(supervisions.map((r) => r.id).sort()).toEqual(playable);
    for (const r of recordings) expect(r.duration as number).toBeGreaterThan(0);

    const wavScp = untar(await get('kaldi'))
      .get('wav.scp')!
      .toString('utf8')
      .trimEnd()
      .split('\n');
    expect(wavScp.map((l) => l.slice(l.indexOf(' ') + 1)).sort()).toEqual(playable.map((p) => path.join(dir, `${p}.wav`)));
    expect(new Set(wavScp.map((l) => l.split(' ')[0])).size).toBe(playable.length);

    const nemo = jsonLines((await get('nemo')).toString('utf8'));
    expect(nemo.map((l) => l.audio_filepath).sort()).toEqual(playable.map((p) => path.join(dir, `${p}.wav`)));
    expect(nemo.find((l) => (l.audio_filepath as string).endsWith('blank.wav'))).toMatchObject({ normalized_text: 'Hello there.' });
    for (const l of nemo) expect(Number.isInteger(l.speaker), JSON.stringify(l)).toBe(true);

    // LJSpeech and Coqui drop `|` from text: the clip whose text was only that has none left.
    const lj = (await get('ljspeech'))
      .toString('utf8')
      .trimEnd()
      .split('\n')
      .map((l) => l.split('|'));
    expect(lj.map((f) => f[0])).toEqual(['voices/alice/001', 'voices/bob/001', 'voices/dave/blank']);
    for (const f of lj) expect(f[2], f.join('|')).not.toBe('');
    const coqui = pipeCsv((await get('coqui')).toString('utf8')).slice(1);
    expect(coqui.map((r) => r[0])).toEqual(['voices/alice/001.wav', 'voices/bob/001.wav', 'voices/dave/blank.wav']);
    for (const r of coqui) expect(r[1]).not.toBe('');
  });
});

const canMountTmpfs = process.getuid?.() === 0 && spawnSync('mount', ['--version']).status === 0;

describe('exports on a full disk', () => {
  it.skipIf(!canMountTmpfs)('kaldi and lhotse whose temporary files fill their disk answer 507 STORAGE_FULL, and the process lives on (it once ended it)', async () => {
    const dbPath = path.join(tempDir('vl-full-tmp-db-'), 'db.db');
    const { taskId } = await writeSyntheticTask(dbPath, 20_000, { speakers: 50 });
    // The system temp directory on a 32 KiB file system: Kaldi's sort runs and Lhotse's gzipped members overflow it.
    const tmp = tempDir('vl-full-tmp-');
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=32k', 'tmpfs', tmp], { encoding: 'utf8' });
    if (mount.status !== 0) throw new Error(`cannot mount a tmpfs for this test: ${mount.stderr}`);
    onTestFinished(() => void spawnSync('umount', [tmp]));
    const local = await startTestService({ DB_PATH: dbPath });
    onTestFinished(async () => void (await local.close()));
    const before = process.env.TMPDIR;
    const restore = (): void => {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
    };
    onTestFinished(restore);
    process.env.TMPDIR = tmp;
    for (const format of ['kaldi', 'lhotse']) {
      const res = await local.request(`${BASE}/scan-export/${taskId}?format=${format}`);
      expect(res.status, format).toBe(507);
      expect(res.headers.get('content-disposition'), format).toBeNull();
      expect(await res.json()).toMatchObject({ code: 'STORAGE_FULL' });
      expect(fs.readdirSync(tmp), `${format}: its temporary directory is gone`).toEqual([]);
    }
    expect((await local.request('/healthz')).status).toBe(200);
    restore();
    const ok = await local.request(`${BASE}/scan-export/${taskId}?format=kaldi`);
    expect(ok.status).toBe(200);
    const clips = jsonLines(await (await local.request(`${BASE}/scan-export/${taskId}?format=nemo`)).text()).length;
    expect(clips).toBeGreaterThan(19_000);
    expect(
      untar(Buffer.from(await ok.arrayBuffer()))
        .get('wav.scp')!
        .toString('utf8')
        .trimEnd()
        .split('\n'),
    ).toHaveLength(clips);
  });
});

const rss = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

describe('exports of a large task', () => {
  it('stream from the store: the server’s memory does not grow with the export’s size (5× the rows, about the same peak), and waits for a slow reader', async () => {
    const dbPath = path.join(tempDir('vl-big-export-'), 'v.db');
    const small = (await writeSyntheticTask(dbPath, 40_000)).taskId;
    const large = (await writeSyntheticTask(dbPath, 200_000)).taskId;
    // An 80 MB old generation: V8 then collects instead of letting garbage pile up to its default
    // limit (without the cap the peak RSS wanders by ±60 MB from run to run), and an export held in
    // memory would not fit at all (a Kaldi export sorted in memory crashes the server). 2 MB
    // semi-spaces: a young generation left to grow to 16 MB ones grew during whichever export ran
    // longest first, and read as +19 MB of "growth" on CI (kaldi 248 → 267 MB, every later export
    // at 267); capped, the levels of three runs stayed within −9 to +8 MB.
    const server = await startChildServer({ DB_PATH: dbPath, NODE_OPTIONS: '--max-old-space-size=80 --max-semi-space-size=2' });
    onTestFinished(() => void server.proc.kill('SIGKILL'));
    const pid = server.proc.pid!;
    const url = (task: string, format: string) => `${server.url}${BASE}/scan-export/${task}?format=${format}`;
    /**
     * What the server produced for a download — its bytes, or for Lhotse's tar of gzipped members
     * the bytes before gzip — and the server's peak RSS while it ran, sampled every 20 ms.
     */
    async function measure(u: string): Promise<{ size: number; peak: number }> {
      let peak = rss(pid);
      const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 20);
      const chunks: Uint8Array[] = [];
      for await (const chunk of (await fetch(u)).body!) chunks.push(chunk as Uint8Array);
      clearInterval(sampler);
      const body = Buffer.concat(chunks);
      if (!u.includes('format=lhotse')) return { size: body.length, peak };
      const dir = tempDir('vl-lhotse-size-');
      fs.writeFileSync(path.join(dir, 'x.tar'), body);
      expect(spawnSync('tar', ['-xf', 'x.tar'], { cwd: dir }).status).toBe(0);
      const members = fs.readdirSync(dir).filter((f) => f.endsWith('.gz'));
      expect(members.length).toBe(2);
      return { size: members.reduce((n, f) => n + zlib.gunzipSync(fs.readFileSync(path.join(dir, f))).length, 0), peak };
    }
    // A filtered export waits for the catalog's background indexing of the 240k rows: wait for it,
    // and for the memory of the start-up to settle, before measuring.
    await (await fetch(`${url(large, 'nemo')}&speaker_id=14`)).arrayBuffer();
    for (let last = 0, now = rss(pid); Math.abs(now - last) > 2e6;) {
      await new Promise((r) => setTimeout(r, 500));
      [last, now] = [now, rss(pid)];
    }
    const report: string[] = [];
    const growth: [number, number][] = [];
    for (const format of ['kaldi', 'nemo', 'lhotse', 'coqui']) {
      // The small task first sets the level of what an export costs (heap, allocator, buffers);
      // five times the rows must not raise it by more than a fraction of the larger export.
      const small5 = await measure(url(small, format));
      const big = await measure(url(large, format));
      const grew = big.peak - small5.peak;
      report.push(
        `${format}: 40k rows ${(small5.size / 1e6).toFixed(1)} MB, peak RSS ${(small5.peak / 1e6).toFixed(0)} MB; 200k rows ${(big.size / 1e6).toFixed(1)} MB, peak RSS ${(big.peak / 1e6).toFixed(0)} MB (${grew >= 0 ? '+' : ''}${(grew / 1e6).toFixed(1)})`,
      );
      expect(big.size).toBeGreaterThan(10e6);
      growth.push([grew, big.size]);
    }
    // Measured over runs: −9 to +8 MB (kaldi's sort also reads 64 KiB per run of 10k lines: ~4 MB
    // at 200k rows).
    // Lhotse's bound is a third of the JSONL it wrote, not of the gzip on the wire (15 MB, where
    // +5.8 MB was once measured: noise at that scale, not growth).
    for (const [grew, size] of growth) expect(grew, report.join('\n')).toBeLessThan(size / 3);
    // A reader that stops: the server stops producing (backpressure), it does not buffer the rest.
    const res = await fetch(url(large, 'nemo'));
    const reader = res.body!.getReader();
    await reader.read();
    await new Promise((r) => setTimeout(r, 1500));
    const held = rss(pid);
    await new Promise((r) => setTimeout(r, 1500));
    report.push(`stalled reader: RSS ${(held / 1e6).toFixed(0)} MB → ${(rss(pid) / 1e6).toFixed(0)} MB after 1.5 s more`);
    expect(rss(pid) - held, report.join('\n')).toBeLessThan(10e6);
    await reader.cancel();
    console.log(report.join('\n'));
    // A memory test, not a timing one: alone it takes ~70 s (240k rows written, indexed, exported
    // eight times); under the suite's parallel load on two cores it took 100 s.
  }, 240_000);
});
