import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readSpeakerInfo, parseLibriTTSPath, parseSpeakersTsv, parseSpeakersTxt, TranscriptReader } from '../../src/scan/libritts.ts';
import { ageTree, makeLibriTTSTree, tempDir } from '../helpers/libritts-tree.ts';

describe('LibriTTS naming', () => {
  it('takes subset, speaker, chapter and utterance from the path', () => {
    expect(parseLibriTTSPath('dev-clean/84/121123/84_121123_000007_000001.wav')).toEqual({
      subset: 'dev-clean',
      speaker_id: '84',
      chapter_id: '121123',
      utterance_id: '84_121123_000007_000001',
    });
  });
  it('works when the root is deeper or shallower', () => {
    expect(parseLibriTTSPath('LibriTTS/train-clean-100/19/198/19_198_000000_000000.WAV').subset).toBe('train-clean-100');
    expect(parseLibriTTSPath('19/198/19_198_000000_000000.wav')).toMatchObject({ subset: null, speaker_id: '19' });
  });
  it('gives null ids for files named otherwise', () => {
    expect(parseLibriTTSPath('misc/hello.wav')).toEqual({ subset: null, speaker_id: null, chapter_id: null, utterance_id: null });
  });
  it('agrees with the split-and-regex parser it replaced, on any path (property, 20,000 cases)', () => {
    // The former implementation, kept as the oracle.
    const oracle = (rel: string) => {
      const parts = rel.split('/');
      const stem = parts[parts.length - 1]!.replace(/\.wav$/i, '');
      const m = /^(\d+)_(\d+)_\d+_\d+$/.exec(stem) ?? /^(\d+)-(\d+)-\d+$/.exec(stem);
      if (!m) return { subset: null, speaker_id: null, chapter_id: null, utterance_id: null };
      return { subset: parts.length >= 4 ? parts[parts.length - 4]! : null, speaker_id: m[1]!, chapter_id: m[2]!, utterance_id: stem };
    };
    const piece = fc.constantFrom('', '/', '//', 'a', 'dev-clean', '84', '121123', '_', '-', '1', '07', '.wav', '.WaV', '.wav.', 'wav', '.', 'é', '\\xe9', '\n', '٣', '0', ':');
    const path = fc.array(piece, { maxLength: 14 }).map((xs) => xs.join(''));
    const dir = fc.constantFrom('', 'x', 'LibriTTS', 'dev-clean', '19');
    const libri = fc
      .tuple(
        fc.array(dir, { maxLength: 5 }),
        fc.nat(999),
        fc.nat(999),
        fc.oneof(dir, fc.constant('sp')),
        fc.oneof(dir, fc.constant('ch')),
        fc.constantFrom('.wav', '.WAV', '', '.wa', 'x.wav'),
        fc.boolean(),
      )
      .map(([dirs, sp, ch, spDir, chDir, ext, dash]) =>
        [...dirs, spDir === 'sp' ? String(sp) : spDir, chDir === 'ch' ? String(ch) : chDir, dash ? `${sp}-${ch}-0001${ext}` : `${sp}_${ch}_000007_000001${ext}`].join('/'),
      );
    fc.assert(
      fc.property(fc.oneof(path, libri, fc.string({ maxLength: 30 })), (rel) => {
        expect(parseLibriTTSPath(rel)).toEqual(oracle(rel));
      }),
      { numRuns: 20_000 },
    );
  });
});

describe('speaker tables', () => {
  it('reads speakers.tsv by position, with its odd header and empty names', () => {
    const m = parseSpeakersTsv('READER\tGENDER\tSUBSET\t NAME\n14\tF\ttrain-clean-360\tKristin LeMoine\n16\tF\ttrain-clean-360\t\n');
    expect(m.get('14')).toEqual({ speaker_id: '14', gender: 'F', subset: 'train-clean-360', name: 'Kristin LeMoine' });
    expect(m.get('16')!.name).toBeNull();
    expect(m.size).toBe(2);
  });
  it('reads SPEAKERS.txt as |-separated with ; comments', () => {
    const m = parseSpeakersTxt(
      '; Some comment\n;ID  |SEX| SUBSET           |MINUTES| NAME\n14   | F | train-clean-360  | 25.03 | Kristin LeMoine\n19   | F | train-clean-100  | 25.19 | Kara | Shallenberg\n',
    );
    expect(m.get('14')).toEqual({ speaker_id: '14', gender: 'F', subset: 'train-clean-360', name: 'Kristin LeMoine' });
    expect(m.get('19')!.name).toBe('Kara|Shallenberg');
  });
  it('loads whichever file the root has, or nothing', () => {
    const dir = tempDir();
    expect(readSpeakerInfo(dir)).toEqual([]);
    fs.writeFileSync(path.join(dir, 'SPEAKERS.txt'), '14 | M | dev-clean | 1.0 | Someone\n');
    expect(readSpeakerInfo(dir).find((s) => s.speaker_id === '14')!.gender).toBe('M');
  });
});

describe('transcripts', () => {
  /** A sidecar's fingerprint as a rescan compares it: "size:mtime_ns". */
  const sig = (file: string) => {
    const st = fs.statSync(file, { bigint: true });
    return `${st.size}:${st.mtimeNs}`;
  };
  const tableOf = (tree: { root: string }, f: { rel: string; speaker: string; chapter: string }) =>
    path.join(tree.root, path.dirname(f.rel), `${f.speaker}_${f.chapter}.trans.tsv`);

  it('reads the chapter table first; the siblings only for what it lacks; says which files decided the text', () => {
    const tree = makeLibriTTSTree({ corrupt: false });
    ageTree(tree.root);
    const f = tree.files[0]!;
    const t = new TranscriptReader().read(tree.root, f.rel, parseLibriTTSPath(f.rel));
    expect(t).toEqual({
      text_normalized: f.text,
      text_original: f.text.toUpperCase(),
      sidecars: JSON.stringify({ [`${f.speaker}_${f.chapter}.trans.tsv`]: sig(tableOf(tree, f)) }),
    });
    // Without the table, the siblings; a missing one is recorded as absent ("-").
    fs.rmSync(tableOf(tree, f));
    const stem = path.join(tree.root, f.rel.replace(/\.wav$/, ''));
    fs.rmSync(`${stem}.original.txt`);
    const again = new TranscriptReader().read(tree.root, f.rel, parseLibriTTSPath(f.rel));
    expect(again).toEqual({
      text_normalized: f.text,
      text_original: null,
      sidecars: JSON.stringify({
        [`${f.speaker}_${f.chapter}.trans.tsv`]: '-',
        [`${f.utterance}.normalized.txt`]: sig(`${stem}.normalized.txt`),
        [`${f.utterance}.original.txt`]: '-',
      }),
    });
    tree.cleanup();
  });
  it("falls back to the chapter's .trans.tsv when a sibling is missing", () => {
    const tree = makeLibriTTSTree({ corrupt: false, siblingTranscripts: false });
    const reader = new TranscriptReader();
    for (const f of tree.files.slice(0, 4)) {
      const t = reader.read(tree.root, f.rel, parseLibriTTSPath(f.rel));
      expect(t).toMatchObject({ text_normalized: f.text, text_original: f.text.toUpperCase() });
    }
    tree.cleanup();
  });
  it('a sidecar that cannot be judged (a symlink, a directory) makes the row one never to reuse (sidecars null)', () => {
    const tree = makeLibriTTSTree({ corrupt: false, siblingTranscripts: false });
    const f = tree.files[0]!;
    const table = tableOf(tree, f);
    fs.renameSync(table, `${table}.real`);
    fs.symlinkSync(`${table}.real`, table);
    expect(new TranscriptReader().read(tree.root, f.rel, parseLibriTTSPath(f.rel)).sidecars).toBeNull();
    tree.cleanup();
  });
  it('a sidecar written in the last two seconds is not trusted either (a later write may keep its mtime)', () => {
    const tree = makeLibriTTSTree({ corrupt: false, siblingTranscripts: false });
    const f = tree.files[0]!;
    expect(new TranscriptReader().read(tree.root, f.rel, parseLibriTTSPath(f.rel))).toMatchObject({ text_normalized: f.text, sidecars: null });
    ageTree(tree.root);
    expect(new TranscriptReader().read(tree.root, f.rel, parseLibriTTSPath(f.rel)).sidecars).not.toBeNull();
    tree.cleanup();
  });
  it('forgets chapter tables on reset, so an edited table is read again', () => {
    const tree = makeLibriTTSTree({ corrupt: false, siblingTranscripts: false });
    const f = tree.files[0]!;
    const reader = new TranscriptReader();
    expect(reader.read(tree.root, f.rel, parseLibriTTSPath(f.rel)).text_normalized).toBe(f.text);
    fs.writeFileSync(tableOf(tree, f), `${f.utterance}\tNEW ORIGINAL\tnew normalized\n`);
    reader.reset();
    expect(reader.read(tree.root, f.rel, parseLibriTTSPath(f.rel))).toMatchObject({ text_normalized: 'new normalized', text_original: 'NEW ORIGINAL' });
    tree.cleanup();
  });
});
