import fs from 'node:fs';
import path from 'node:path';

/** Ids LibriTTS encodes in a file's path: `<subset>/<speaker>/<chapter>/<speaker>_<chapter>_<para>_<sent>.wav`. */
export interface LibriTTSIds {
  subset: string | null;
  speaker_id: string | null;
  chapter_id: string | null;
  utterance_id: string | null;
}

const UTTERANCE = /^(\d+)_(\d+)_\d+_\d+$/;
// LibriSpeech-style names (`84-121123-0001`) appear in LibriTTS-alike trees too.
const LIBRISPEECH = /^(\d+)-(\d+)-\d+$/;

/** Parses LibriTTS (or LibriSpeech) naming; a file named otherwise gets null ids. */
export function parseLibriTTSPath(rel: string): LibriTTSIds {
  const parts = rel.split('/');
  const stem = parts[parts.length - 1]!.replace(/\.wav$/i, '');
  const m = UTTERANCE.exec(stem) ?? LIBRISPEECH.exec(stem);
  if (!m) return { subset: null, speaker_id: null, chapter_id: null, utterance_id: null };
  return {
    subset: parts.length >= 4 ? parts[parts.length - 4]! : null,
    speaker_id: m[1]!,
    chapter_id: m[2]!,
    utterance_id: stem,
  };
}

export interface Transcript {
  text_normalized: string | null;
  text_original: string | null;
}

function readTextOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/**
 * Finds transcripts. The chapter's `<speaker>_<chapter>.trans.tsv` (id, original, normalized) is
 * read once per chapter and answers for all its utterances; the sibling `<stem>.normalized.txt` /
 * `<stem>.original.txt` are read only for what it lacks. In LibriTTS both hold the same text, and
 * one read per chapter instead of two per utterance is what lets a header scan keep up with the
 * disk (README "Performance"). Sync on purpose: it runs in scan workers.
 */
export class TranscriptReader {
  private readonly chapters = new Map<string, Map<string, Transcript>>();
  // Files arrive chapter by chapter: remember the last table to skip even the map lookup.
  private lastKey = '';
  private lastTable: Map<string, Transcript> = new Map();

  constructor(private readonly cacheSize = 32) {}

  read(absWav: string, ids: LibriTTSIds): Transcript {
    let text_normalized: string | null = null;
    let text_original: string | null = null;
    if (ids.speaker_id && ids.chapter_id && ids.utterance_id) {
      const dir = absWav.slice(0, absWav.lastIndexOf(path.sep));
      const fromTsv = this.chapter(`${dir}${path.sep}${ids.speaker_id}_${ids.chapter_id}.trans.tsv`).get(ids.utterance_id);
      if (fromTsv) ({ text_normalized, text_original } = fromTsv);
    }
    if (text_normalized === null || text_original === null) {
      const base = absWav.slice(0, -4); // callers pass *.wav in any letter case
      text_normalized ??= readTextOrNull(`${base}.normalized.txt`);
      text_original ??= readTextOrNull(`${base}.original.txt`);
    }
    return { text_normalized, text_original };
  }

  private chapter(key: string): Map<string, Transcript> {
    if (key === this.lastKey) return this.lastTable;
    let table = this.chapters.get(key);
    if (table) {
      this.lastKey = key;
      this.lastTable = table;
      return table;
    }
    table = new Map();
    const text = readTextOrNull(key);
    if (text) {
      for (const line of text.split(/\r?\n/)) {
        const cols = line.split('\t');
        if (cols.length < 2 || !cols[0]) continue;
        table.set(cols[0], { text_original: cols[1]?.trim() ?? null, text_normalized: (cols[2] ?? cols[1])?.trim() ?? null });
      }
    }
    if (this.chapters.size >= this.cacheSize) this.chapters.delete(this.chapters.keys().next().value!);
    this.chapters.set(key, table);
    this.lastKey = key;
    this.lastTable = table;
    return table;
  }
}

export interface SpeakerInfo {
  speaker_id: string;
  name: string | null;
  gender: string | null;
  subset: string | null;
}

/**
 * Parses LibriTTS `speakers.tsv` by position (its header has a space, not a tab, before NAME, and
 * some names are empty): READER, GENDER, SUBSET, NAME.
 */
export function parseSpeakersTsv(text: string): Map<string, SpeakerInfo> {
  const out = new Map<string, SpeakerInfo>();
  for (const line of text.split(/\r?\n/)) {
    const cols = line.split('\t').map((c) => c.trim());
    const id = cols[0];
    if (!id || !/^\d+$/.test(id)) continue; // header and blank lines
    out.set(id, { speaker_id: id, gender: cols[1] || null, subset: cols[2] || null, name: cols[3] || null });
  }
  return out;
}

/** Parses LibriSpeech `SPEAKERS.txt`: `ID | SEX | SUBSET | MINUTES | NAME`, `;` starts a comment. */
export function parseSpeakersTxt(text: string): Map<string, SpeakerInfo> {
  const out = new Map<string, SpeakerInfo>();
  for (const line of text.split(/\r?\n/)) {
    if (line.trimStart().startsWith(';')) continue;
    const cols = line.split('|').map((c) => c.trim());
    const id = cols[0];
    if (!id || !/^\d+$/.test(id) || cols.length < 2) continue;
    // A name may itself contain '|'; everything after MINUTES is the name.
    out.set(id, { speaker_id: id, gender: cols[1] || null, subset: cols[2] || null, name: cols.slice(4).join('|') || null });
  }
  return out;
}

/** Reads the root's `speakers.tsv` or `SPEAKERS.txt` when present (async: runs on the main thread). */
export async function loadSpeakerInfo(root: string): Promise<Map<string, SpeakerInfo>> {
  for (const [file, parse] of [
    ['speakers.tsv', parseSpeakersTsv],
    ['SPEAKERS.txt', parseSpeakersTxt],
  ] as const) {
    try {
      return parse(await fs.promises.readFile(path.join(root, file), 'utf8'));
    } catch {
      // absent or unreadable: try the next, else no names
    }
  }
  return new Map();
}
