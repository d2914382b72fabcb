import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSpeakerInfo, parseLibriTTSPath, parseSpeakersTsv, parseSpeakersTxt, TranscriptReader } from '../../src/scan/libritts.ts';
import { makeLibriTTSTree, tempDir } from '../helpers/libritts-tree.ts';

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
  it('reads sibling .normalized.txt / .original.txt', () => {
    const tree = makeLibriTTSTree({ corrupt: false });
    const f = tree.files[0]!;
    const t = new TranscriptReader().read(tree.root, f.rel, parseLibriTTSPath(f.rel));
    expect(t).toEqual({ text_normalized: f.text, text_original: f.text.toUpperCase() });
    tree.cleanup();
  });
  it("falls back to the chapter's .trans.tsv when a sibling is missing", () => {
    const tree = makeLibriTTSTree({ corrupt: false, siblingTranscripts: false });
    const reader = new TranscriptReader();
    for (const f of tree.files.slice(0, 4)) {
      const t = reader.read(tree.root, f.rel, parseLibriTTSPath(f.rel));
      expect(t).toEqual({ text_normalized: f.text, text_original: f.text.toUpperCase() });
    }
    tree.cleanup();
  });
});
