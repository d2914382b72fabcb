import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toneWav } from './wav.ts';

export interface TreeOptions {
  /** Where to write the tree (created); a new temp dir when absent. */
  root?: string;
  /** Durations of the distinct clips the tree cycles through, in seconds. */
  clipDurations?: number[];
  /** subset name → number of speakers. */
  subsets?: Record<string, number>;
  chaptersPerSpeaker?: number;
  utterancesPerChapter?: number;
  durationS?: number;
  /** Add corrupt files (garbage, truncated, empty) to the first chapter. */
  corrupt?: boolean;
  /** Write transcripts as sibling .txt files (true) or only in the chapter's .trans.tsv (false). */
  siblingTranscripts?: boolean;
}

export interface TreeFile {
  rel: string;
  speaker: string;
  chapter: string;
  utterance: string;
  subset: string;
  text: string;
}

export interface Tree {
  root: string;
  /** Good files. */
  files: TreeFile[];
  /** Corrupt files: rel path → the error code expected. */
  corrupt: Map<string, string>;
  speakers: Map<string, { name: string; gender: string }>;
  cleanup(): void;
}

export function tempDir(prefix = 'vl-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Every temp dir this test file made (tempDir); removed after the file's tests (test/setup/temp-dirs.ts). */
const made: string[] = [];

/** Removes the temp dirs made so far. A large export's database alone is 1 GB: they piled up run after run. */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // still in use or mounted: left to the system's temp cleaning
    }
  }
}

/**
 * Writes a LibriTTS-like tree: `<subset>/<speaker>/<chapter>/<spk>_<chap>_<para>_<sent>.wav` with
 * real WAVs made by wavefile, transcripts, the chapter `.trans.tsv` and a root `speakers.tsv`.
 */
export function makeLibriTTSTree(opts: TreeOptions = {}): Tree {
  const root = opts.root ?? tempDir('vl-tree-');
  fs.mkdirSync(root, { recursive: true });
  const subsets = opts.subsets ?? { 'dev-clean': 2, 'test-clean': 1 };
  const chapters = opts.chaptersPerSpeaker ?? 2;
  const utts = opts.utterancesPerChapter ?? 3;
  const sibling = opts.siblingTranscripts ?? true;
  // A few distinct clips, reused: building thousands of files stays fast.
  const clips = (opts.clipDurations ?? [0.05, 0.08, 0.11]).map((d, i) =>
    toneWav({ durationS: opts.durationS ?? d, leadS: 0.01 * (i + 1), tailS: 0.02, amplitude: 0.3 + 0.1 * (i % 3), frequency: 220 + 110 * (i % 4) }),
  );
  const files: TreeFile[] = [];
  const speakers = new Map<string, { name: string; gender: string }>();
  let spk = 100;
  const tsvLines = ['READER\tGENDER\tSUBSET\t NAME'];
  for (const [subset, nSpeakers] of Object.entries(subsets)) {
    for (let s = 0; s < nSpeakers; s++) {
      const speaker = String(spk++);
      const gender = s % 2 ? 'M' : 'F';
      // Some LibriTTS names are empty; keep one such speaker.
      const name = speaker === '101' ? '' : `Reader ${speaker}`;
      speakers.set(speaker, { name, gender });
      tsvLines.push(`${speaker}\t${gender}\t${subset}\t${name}`);
      for (let c = 0; c < chapters; c++) {
        const chapter = String(1000 + c);
        const dir = path.join(root, subset, speaker, chapter);
        fs.mkdirSync(dir, { recursive: true });
        const trans: string[] = [];
        for (let u = 0; u < utts; u++) {
          const utterance = `${speaker}_${chapter}_${String(u).padStart(6, '0')}_000001`;
          const text = `Utterance ${u} of chapter ${chapter}, read by ${speaker}.`;
          fs.writeFileSync(path.join(dir, `${utterance}.wav`), clips[u % clips.length]!);
          if (sibling) {
            fs.writeFileSync(path.join(dir, `${utterance}.normalized.txt`), text);
            fs.writeFileSync(path.join(dir, `${utterance}.original.txt`), text.toUpperCase());
          }
          trans.push(`${utterance}\t${text.toUpperCase()}\t${text}`);
          files.push({ rel: `${subset}/${speaker}/${chapter}/${utterance}.wav`, speaker, chapter, utterance, subset, text });
        }
        fs.writeFileSync(path.join(dir, `${speaker}_${chapter}.trans.tsv`), trans.join('\n') + '\n');
      }
    }
  }
  fs.writeFileSync(path.join(root, 'speakers.tsv'), tsvLines.join('\n') + '\n');

  const corrupt = new Map<string, string>();
  if (opts.corrupt ?? true) {
    const first = files[0]!;
    const dir = path.dirname(first.rel);
    const put = (name: string, bytes: Uint8Array, code: string) => {
      fs.writeFileSync(path.join(root, dir, name), bytes);
      corrupt.set(`${dir}/${name}`, code);
    };
    put(`${first.speaker}_${first.chapter}_900000_000001.wav`, Buffer.from('this is not a wav file at all, just text'), 'NOT_RIFF_WAVE');
    put(`${first.speaker}_${first.chapter}_900001_000001.wav`, clips[0]!.subarray(0, 200), 'TRUNCATED');
    put(`${first.speaker}_${first.chapter}_900002_000001.wav`, new Uint8Array(0), 'TRUNCATED');
    // Resource forks from macOS copies must be ignored, not reported.
    fs.writeFileSync(path.join(root, dir, `._${first.utterance}.wav`), Buffer.from('Mac OS X resource fork'));
  }
  return { root, files, corrupt, speakers, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/** A flat tree of `n` tiny WAVs (for "large tree" tests). */
export function makeFlatTree(n: number, opts: { subset?: string } = {}): { root: string; cleanup(): void } {
  const root = tempDir('vl-flat-');
  const clip = toneWav({ durationS: 0.01 });
  const subset = opts.subset ?? 'train-clean-100';
  for (let i = 0; i < n; i++) {
    const speaker = String(200 + (i % 20));
    const chapter = String(3000 + (Math.floor(i / 20) % 10));
    const dir = path.join(root, subset, speaker, chapter);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${speaker}_${chapter}_${String(i).padStart(6, '0')}_000000.wav`), clip);
  }
  return { root, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/**
 * Moves the modification time of every file under `root` `seconds` into the past (each by the
 * same amount): files written a moment ago are "racy" (src/scan/racy.ts) and a rescan never
 * reuses them, as it should not; tests of reuse start from a tree that has settled.
 */
export function ageTree(root: string, seconds = 3600): void {
  const back = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) back(full);
      else if (e.isFile()) {
        const st = fs.statSync(full);
        const t = new Date(st.mtimeMs - seconds * 1000);
        fs.utimesSync(full, t, t);
      }
    }
  };
  back(root);
}
