// Deterministic LibriTTS-like corpora for benchmarks: same seed and size, same tree.
import fs from 'node:fs';
import path from 'node:path';
import wavefile from 'wavefile';

const { WaveFile } = wavefile;

/** mulberry32: small, fast, seedable. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface CorpusOptions {
  dir: string;
  files: number;
  seed?: number;
  /** Clip durations are drawn uniformly from this range, in seconds. */
  minS: number;
  maxS: number;
  sampleRate?: number;
  /** Write LibriTTS transcripts (sibling .txt files and the chapter .trans.tsv). */
  transcripts?: boolean;
}

export interface Corpus {
  root: string;
  /** Every WAV, relative to root. */
  files: string[];
  bytes: number;
}

const UTTERANCES_PER_CHAPTER = 50;
const CHAPTERS_PER_SPEAKER = 4;

/** A speech-like clip: a few tone bursts with pauses, 16-bit mono, made with wavefile. */
function clip(seconds: number, sr: number, rand: () => number): Buffer {
  const n = Math.round(seconds * sr);
  const samples = new Int16Array(n);
  const f = 120 + rand() * 200;
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    const envelope = Math.max(0, Math.sin(Math.PI * 2.5 * t)) * (t > 0.2 && t < seconds - 0.2 ? 1 : 0);
    samples[i] = Math.round(8000 * envelope * Math.sin(2 * Math.PI * f * t) + (rand() - 0.5) * 60);
  }
  const w = new WaveFile();
  w.fromScratch(1, sr, '16', samples);
  return Buffer.from(w.toBuffer());
}

/**
 * Writes (or reuses, when a finished one with the same parameters is there) a corpus of `files`
 * WAVs laid out as `<subset>/<speaker>/<chapter>/<spk>_<chap>_<para>_<sent>.wav`, with a root
 * speakers.tsv. Clips come from a pool of 64 distinct ones so a corpus of any size writes fast.
 */
export function ensureCorpus(o: CorpusOptions): Corpus {
  const seed = o.seed ?? 1;
  const sr = o.sampleRate ?? 24000;
  const key = `n${o.files}-s${seed}-d${o.minS}-${o.maxS}-r${sr}-t${o.transcripts ? 1 : 0}`;
  const root = path.join(o.dir, key);
  const manifest = path.join(root, '.manifest.json');
  if (fs.existsSync(manifest)) return JSON.parse(fs.readFileSync(manifest, 'utf8')) as Corpus;
  fs.rmSync(root, { recursive: true, force: true });
  const rand = rng(seed);
  const pool = Array.from({ length: 64 }, () => clip(o.minS + rand() * (o.maxS - o.minS), sr, rand));
  const files: string[] = [];
  const speakers: string[] = ['READER\tGENDER\tSUBSET\t NAME'];
  let bytes = 0;
  let written = 0;
  for (let spk = 1; written < o.files; spk++) {
    const subset = spk % 3 === 0 ? 'dev-clean' : 'train-clean-100';
    speakers.push(`${spk}\t${spk % 2 ? 'F' : 'M'}\t${subset}\tReader ${spk}`);
    for (let ch = 0; ch < CHAPTERS_PER_SPEAKER && written < o.files; ch++) {
      const chapter = String(10000 + spk * 10 + ch);
      const dir = path.join(root, subset, String(spk), chapter);
      fs.mkdirSync(dir, { recursive: true });
      const trans: string[] = [];
      for (let u = 0; u < UTTERANCES_PER_CHAPTER && written < o.files; u++, written++) {
        const utt = `${spk}_${chapter}_${String(u).padStart(6, '0')}_000000`;
        const wav = pool[Math.floor(rand() * pool.length)]!;
        fs.writeFileSync(path.join(dir, `${utt}.wav`), wav);
        bytes += wav.length;
        files.push(`${subset}/${spk}/${chapter}/${utt}.wav`);
        if (o.transcripts) {
          const text = `Sentence ${u} of chapter ${chapter}.`;
          fs.writeFileSync(path.join(dir, `${utt}.normalized.txt`), text);
          fs.writeFileSync(path.join(dir, `${utt}.original.txt`), text);
          trans.push(`${utt}\t${text}\t${text}`);
        }
      }
      if (o.transcripts) fs.writeFileSync(path.join(dir, `${spk}_${chapter}.trans.tsv`), trans.join('\n') + '\n');
    }
  }
  fs.writeFileSync(path.join(root, 'speakers.tsv'), speakers.join('\n') + '\n');
  const corpus: Corpus = { root, files, bytes };
  fs.writeFileSync(manifest, JSON.stringify(corpus));
  return corpus;
}
