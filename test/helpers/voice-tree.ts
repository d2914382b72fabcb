import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from './libritts-tree.ts';
import { int16Wav, SPEAKERS, speech, TRUE_SNRS, withNoise, type Speaker } from './speech.ts';

/**
 * A LibriTTS-style tree of speech-like clips whose qualities are known: an SNR ladder per speaker,
 * and clips made to pass or fail each reference-clip rule. Shared by the voice-library route tests
 * and the dashboard's browser test.
 */

export interface VoiceClip {
  rel: string;
  speaker: string;
  subset: string;
  chapter: string;
  /** The SNR the noise was added at; null for clean speech. */
  trueSnrDb: number | null;
  /** Words of the normalized transcript (null: the clip has no transcript). */
  text: string | null;
  /** What the clip was made to be, for messages. */
  kind: string;
}

export interface VoiceTree {
  root: string;
  clips: VoiceClip[];
  /** The SNR-ladder speakers, each with clean speech and noise at every TRUE_SNRS. */
  ladder: string[];
  /** The speaker whose clips test each reference rule, and the one with no eligible clip. */
  rules: string;
  nothingEligible: string;
  /** Paths of files that are not WAVs (error rows). */
  corrupt: string[];
  cleanup(): void;
}

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];

/** Two to four words of the pool, picked by `i`: the same for a given i. */
function sentence(i: number): string {
  const n = 2 + (i % 3);
  return Array.from({ length: n }, (_, k) => WORDS[(i * 3 + k * 5) % WORDS.length]).join(' ');
}

const withSilence = (x: Float64Array, leadS: number, sr = 24_000): Float64Array => {
  const out = new Float64Array(x.length + Math.round(leadS * sr));
  out.set(x, out.length - x.length);
  return out;
};
const scaled = (x: Float64Array, gain: number): Float64Array => x.map((v) => v * gain);
/** Peak-normalised to `peak` (full-scale units). */
const toPeak = (x: Float64Array, peak: number): Float64Array => {
  let p = 0;
  for (const v of x) p = Math.max(p, Math.abs(v));
  return scaled(x, peak / p);
};

export function makeVoiceTree(): VoiceTree {
  const root = tempDir('vl-voices-');
  const clips: VoiceClip[] = [];
  const chapterLines = new Map<string, string[]>();
  let counter = 0;
  const put = (subset: string, speaker: string, chapter: string, samples: Float64Array, o: { trueSnrDb: number | null; kind: string; transcript?: boolean }): VoiceClip => {
    const n = counter++;
    const utt = `${speaker}_${chapter}_${String(n).padStart(6, '0')}_000000`;
    const dir = path.join(root, subset, speaker, chapter);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${utt}.wav`), int16Wav(samples));
    const text = o.transcript === false ? null : sentence(n);
    if (text !== null) {
      // The original text has capitals and punctuation, as LibriTTS's does.
      const original = `${text[0]!.toUpperCase()}${text.slice(1).replace(/ /, ', ')}!`;
      fs.writeFileSync(path.join(dir, `${utt}.normalized.txt`), text);
      fs.writeFileSync(path.join(dir, `${utt}.original.txt`), original);
      const key = `${subset}/${speaker}/${chapter}`;
      chapterLines.set(key, [...(chapterLines.get(key) ?? []), `${utt}\t${original}\t${text}`]);
    }
    const clip = { rel: `${subset}/${speaker}/${chapter}/${utt}.wav`, speaker, subset, chapter, trueSnrDb: o.trueSnrDb, text, kind: o.kind };
    clips.push(clip);
    return clip;
  };

  // The ladder: each synthetic speaker clean and at every SNR, in chapter 10.
  const ladder: string[] = [];
  SPEAKERS.forEach((s: Speaker, i) => {
    const id = String(201 + i);
    ladder.push(id);
    const clean = speech(s);
    put('dev-clean', id, '10', clean, { trueSnrDb: null, kind: 'clean' });
    for (const snr of TRUE_SNRS) put('dev-clean', id, '10', withNoise(clean, snr, s.seed * 7919 + snr), { trueSnrDb: snr, kind: `${snr} dB` });
  });

  // The rules speaker: three eligible clips of different SNRs, and one clip failing each rule.
  const rules = '300';
  const voice = (durationS: number, seed: number): Float64Array => speech({ seed, durationS, f0: 150, pauseFraction: 0.12, f1: 600, f2: 1500 });
  put('dev-clean', rules, '20', withNoise(voice(8, 31), 25, 1), { trueSnrDb: 25, kind: 'eligible 25 dB' });
  put('dev-clean', rules, '20', withNoise(voice(9, 32), 12, 2), { trueSnrDb: 12, kind: 'eligible 12 dB' });
  put('dev-clean', rules, '20', withNoise(voice(10, 33), 18, 3), { trueSnrDb: 18, kind: 'eligible 18 dB' });
  put('dev-clean', rules, '20', withNoise(voice(4, 34), 30, 4), { trueSnrDb: 30, kind: 'too short (4 s)' });
  put('dev-clean', rules, '20', withNoise(voice(14, 35), 30, 5), { trueSnrDb: 30, kind: 'too long (14 s)' });
  put('dev-clean', rules, '20', withNoise(voice(8, 36), 30, 6), { trueSnrDb: 30, kind: 'no transcript', transcript: false });
  put('dev-clean', rules, '20', scaled(withNoise(voice(8, 37), 30, 7), 4), { trueSnrDb: 30, kind: 'clipped' });
  put('dev-clean', rules, '20', toPeak(withNoise(voice(8, 38), 30, 8), 0.95), { trueSnrDb: 30, kind: 'peak above −1 dBFS' });
  put('dev-clean', rules, '20', scaled(withNoise(voice(8, 39), 30, 9), 0.005), { trueSnrDb: 30, kind: 'RMS below −40 dBFS' });
  put('dev-clean', rules, '20', withSilence(voice(8, 40), 1.5), { trueSnrDb: null, kind: 'leading silence 1.5 s' });
  const corrupt = [`dev-clean/${rules}/20/${rules}_20_999999_000000.wav`];
  fs.writeFileSync(path.join(root, corrupt[0]!), 'not a wav at all');

  // A speaker with nothing eligible: too short, clipped and too long.
  const nothingEligible = '400';
  put('test-clean', nothingEligible, '30', withNoise(voice(3, 41), 20, 10), { trueSnrDb: 20, kind: 'too short (3 s)' });
  put('test-clean', nothingEligible, '30', scaled(withNoise(voice(8, 42), 20, 11), 4), { trueSnrDb: 20, kind: 'clipped' });
  put('test-clean', nothingEligible, '30', scaled(withNoise(voice(20, 43), 20, 12), 4), { trueSnrDb: 20, kind: 'too long (20 s) and clipped' });

  for (const [key, lines] of chapterLines) {
    const [subset, speaker, chapter] = key.split('/');
    fs.writeFileSync(path.join(root, subset!, speaker!, chapter!, `${speaker}_${chapter}.trans.tsv`), lines.join('\n') + '\n');
  }
  const tsv = [
    'READER\tGENDER\tSUBSET\tNAME',
    ...[...ladder, rules].map((s, i) => `${s}\t${i % 2 ? 'M' : 'F'}\tdev-clean\tVoice ${s}`),
    `${nothingEligible}\tF\ttest-clean\tVoice ${nothingEligible}`,
  ];
  fs.writeFileSync(path.join(root, 'speakers.tsv'), tsv.join('\n') + '\n');
  return { root, clips, ladder, rules, nothingEligible, corrupt, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}
