import { fsPath } from './file-names.ts';
import { readSidecarUnder, readSmallFileUnder } from './safe-open.ts';

/**
 * Sidecar size caps. A sidecar over its cap is not read at all, as if it were missing: a 1 GB
 * `.original.txt` must not become a 1 GB row (it took a 2-file scan from 229 MB to 1.24 GB RSS).
 * LibriTTS's own files are far below: transcripts < 1 KB, chapter tables < 100 KB,
 * speakers.tsv ≈ 80 KB.
 */
export const MAX_TRANSCRIPT_BYTES = 64 * 1024;
export const MAX_CHAPTER_TABLE_BYTES = 1024 * 1024;
export const MAX_SPEAKER_TABLE_BYTES = 16 * 1024 * 1024;

/** Any line break: LF, CRLF, or a lone CR (old Mac files). */
const LINE_BREAK = /\r\n?|\n/;

/** Ids LibriTTS encodes in a file's path: `<subset>/<speaker>/<chapter>/<speaker>_<chapter>_<para>_<sent>.wav`. */
export interface LibriTTSIds {
  subset: string | null;
  speaker_id: string | null;
  chapter_id: string | null;
  utterance_id: string | null;
}

/** Where the first two runs of digits of the last idNamed() match end. */
const runEnds = [0, 0];

/**
 * Whether `stem` is `runs` runs of ASCII digits joined by `sep` (a char code): LibriTTS names
 * are `/^(\d+)_(\d+)_\d+_\d+$/` (runs 4, `_`), LibriSpeech-style ones (`84-121123-0001`, in
 * LibriTTS-alike trees too) `/^(\d+)-(\d+)-\d+$/` (runs 3, `-`). By index: the regular
 * expressions' match arrays were ~170 bytes of garbage a row (the property test keeps them as
 * the oracle).
 */
function idNamed(stem: string, sep: number, runs: number): boolean {
  let at = 0;
  for (let k = 0; k < runs; k++) {
    const start = at;
    for (let c = stem.charCodeAt(at); c >= 0x30 && c <= 0x39; c = stem.charCodeAt(++at));
    if (at === start) return false;
    if (k < 2) runEnds[k] = at;
    if (k < runs - 1 && stem.charCodeAt(at++) !== sep) return false;
  }
  return at === stem.length;
}

/** Parses LibriTTS (or LibriSpeech) naming; a file named otherwise gets null ids. */
export function parseLibriTTSPath(rel: string): LibriTTSIds {
  // By index, not split('/') and a replace: ~0.5 µs of a header scan's row was this function.
  const slash = rel.lastIndexOf('/');
  const n = rel.length;
  const wav =
    n - slash > 4 &&
    rel.charCodeAt(n - 4) === 0x2e &&
    (rel.charCodeAt(n - 3) | 0x20) === 0x77 &&
    (rel.charCodeAt(n - 2) | 0x20) === 0x61 &&
    (rel.charCodeAt(n - 1) | 0x20) === 0x76;
  const stem = rel.slice(slash + 1, wav ? n - 4 : n);
  if (!idNamed(stem, 0x5f, 4) && !idNamed(stem, 0x2d, 3)) return { subset: null, speaker_id: null, chapter_id: null, utterance_id: null };
  return { subset: fourthFromLast(rel, slash), speaker_id: stem.slice(0, runEnds[0]), chapter_id: stem.slice(runEnds[0]! + 1, runEnds[1]), utterance_id: stem };
}

/** The path component three before the file's (whose `/` is at `slash`), as split('/') would give it; null when there is none. */
function fourthFromLast(rel: string, slash: number): string | null {
  if (slash < 1) return null;
  const b = rel.lastIndexOf('/', slash - 1);
  if (b < 1) return null;
  const c = rel.lastIndexOf('/', b - 1);
  if (c < 0) return null;
  return rel.slice(c === 0 ? 0 : rel.lastIndexOf('/', c - 1) + 1, c);
}

export interface Transcript {
  text_normalized: string | null;
  text_original: string | null;
}

/**
 * Sidecar text as stored: NUL characters are dropped (no text column of PostgreSQL can hold
 * one, and no transcript or name needs one), so both stores keep the same rows.
 */
const dropNul = (s: string): string => (s.includes('\u0000') ? s.replaceAll('\u0000', '') : s);

const readText = (root: string, rel: string, cap: number): { text: string | null; sig: string | null } => {
  const { text, sig } = readSidecarUnder(root, fsPath(root, rel), cap);
  return { text: text === null ? null : dropNul(text).trim(), sig };
};

/** A transcript field, or null when it is empty or longer than a transcript may be. */
const field = (s: string | undefined): string | null => {
  const t = s?.trim();
  return t && t.length <= MAX_TRANSCRIPT_BYTES ? t : t === '' ? '' : null;
};

/**
 * Finds transcripts. The chapter's `<speaker>_<chapter>.trans.tsv` (id, original, normalized) is
 * read once per chapter and answers for all its utterances; the sibling `<stem>.normalized.txt` /
 * `<stem>.original.txt` are read only for what it lacks. In LibriTTS both hold the same text, and
 * one read per chapter instead of two per utterance is what lets a header scan keep up with the
 * disk (README "Performance"). Sync on purpose: it runs in scan workers.
 */
export interface ChapterTable {
  table: Map<string, Transcript>;
  sig: string | null;
  /** `sidecars` of a row that consulted this table alone (made on first use). */
  alone?: string | null;
}

/** The `sidecars` of a row decided by `chapter` (named `name`) alone: `{"<name>":"<sig>"}`, or null when untrusted. */
function tableOnly(chapter: ChapterTable, name: string): string | null {
  if (chapter.alone === undefined) chapter.alone = chapter.sig === null ? null : JSON.stringify({ [name]: chapter.sig });
  return chapter.alone;
}

/**
 * The names of the transcript files a scan may consult for the WAV named `name` (in its folder):
 * the chapter table, when the name gives the ids, and the two sibling texts. The walk of a rescan
 * fingerprints exactly these (walk.ts).
 */
export function sidecarNames(name: string, ids: LibriTTSIds): { table: string | null; normalized: string; original: string } {
  const base = name.slice(0, -4); // *.wav in any letter case
  return {
    table: ids.speaker_id && ids.chapter_id && ids.utterance_id ? `${ids.speaker_id}_${ids.chapter_id}.trans.tsv` : null,
    normalized: `${base}.normalized.txt`,
    original: `${base}.original.txt`,
  };
}

/**
 * Finds transcripts. The chapter's `<speaker>_<chapter>.trans.tsv` (id, original, normalized) is
 * read once per chapter and answers for all its utterances; the sibling `<stem>.normalized.txt` /
 * `<stem>.original.txt` are read only for what it lacks. In LibriTTS both hold the same text, and
 * one read per chapter instead of two per utterance is what lets a header scan keep up with the
 * disk (README "Performance"). Each answer lists the files it consulted with their fingerprints
 * (`sidecars`), for incremental rescans. Sync on purpose: it runs in scan workers.
 */
export class TranscriptReader {
  private readonly chapters = new Map<string, ChapterTable>();
  // Files arrive chapter by chapter: remember the last table to skip even the map lookup.
  private lastRoot = '';
  private lastDir = '';
  private lastName = '';
  private lastTable: ChapterTable = { table: new Map(), sig: null };
  // The last chapter table's name, and the ids it was made from (tableName).
  private lastSpeaker = '';
  private lastChapter = '';
  private lastTableName = '';

  constructor(private readonly cacheSize = 32) {}

  /** Forgets the tables read: they may have changed since (called for every batch of files). */
  reset(): void {
    this.chapters.clear();
    this.lastRoot = '';
    this.lastDir = '';
    this.lastName = '';
  }

  /** Transcripts of the WAV at `rel` (relative to `root`, in the text form of file-names.ts). */
  read(root: string, rel: string, ids: LibriTTSIds): Transcript & { sidecars: string | null } {
    const slash = rel.lastIndexOf('/');
    const dir = slash < 0 ? '' : rel.slice(0, slash + 1);
    const table = ids.speaker_id && ids.chapter_id && ids.utterance_id ? this.tableName(ids.speaker_id, ids.chapter_id) : null;
    let fromTsv: Transcript | undefined;
    let chapter: ChapterTable | null = null;
    if (table) {
      chapter = this.chapter(root, dir, table);
      fromTsv = chapter.table.get(ids.utterance_id!);
      // The common case (every LibriTTS clip): the table alone decides, and every clip of the
      // chapter records the same `sidecars`, made once. Nothing else is named or made for it.
      if (fromTsv && fromTsv.text_normalized !== null && fromTsv.text_original !== null) {
        return { text_normalized: fromTsv.text_normalized, text_original: fromTsv.text_original, sidecars: tableOnly(chapter, table) };
      }
    }
    let text_normalized: string | null = null;
    let text_original: string | null = null;
    const names = sidecarNames(rel.slice(slash + 1), ids);
    const consulted: Record<string, string> = {};
    let trusted = true;
    const note = (name: string, sig: string | null) => {
      if (sig === null) trusted = false;
      else consulted[name] = sig;
    };
    if (chapter && table) {
      note(table, chapter.sig);
      if (fromTsv) ({ text_normalized, text_original } = fromTsv);
    }
    if (text_normalized === null) {
      const r = readText(root, `${dir}${names.normalized}`, MAX_TRANSCRIPT_BYTES);
      text_normalized = r.text;
      note(names.normalized, r.sig);
    }
    if (text_original === null) {
      const r = readText(root, `${dir}${names.original}`, MAX_TRANSCRIPT_BYTES);
      text_original = r.text;
      note(names.original, r.sig);
    }
    return { text_normalized, text_original, sidecars: trusted ? JSON.stringify(consulted) : null };
  }

  /** `<speaker>_<chapter>.trans.tsv` (sidecarNames' `table`), made once per chapter. */
  private tableName(speaker: string, chapter: string): string {
    if (speaker !== this.lastSpeaker || chapter !== this.lastChapter) {
      this.lastSpeaker = speaker;
      this.lastChapter = chapter;
      this.lastTableName = `${speaker}_${chapter}.trans.tsv`;
    }
    return this.lastTableName;
  }

  /** The chapter table `name` in the folder `dir` (a path ending in `/`, or ''). */
  private chapter(root: string, dir: string, name: string): ChapterTable {
    // The same chapter as the file before (nearly always): no key made, compared, or looked up.
    if (name === this.lastName && dir === this.lastDir && root === this.lastRoot) return this.lastTable;
    const rel = `${dir}${name}`;
    const key = `${root}\0${rel}`;
    let table = this.chapters.get(key);
    if (!table) {
      table = readChapterTable(root, rel);
      if (this.chapters.size >= this.cacheSize) this.chapters.delete(this.chapters.keys().next().value!);
      this.chapters.set(key, table);
    }
    this.lastRoot = root;
    this.lastDir = dir;
    this.lastName = name;
    this.lastTable = table;
    return table;
  }
}

/** A chapter's `.trans.tsv` at `rel` under `root`, read by the sidecar rules, and its fingerprint. */
export function readChapterTable(root: string, rel: string): ChapterTable {
  const { text, sig } = readText(root, rel, MAX_CHAPTER_TABLE_BYTES);
  return { table: parseChapterTable(text ?? ''), sig };
}

/** Whether the chapter table alone gives an utterance's transcripts (TranscriptReader.read then reads no text file). */
export function tableDecides(chapter: ChapterTable, utteranceId: string | null): boolean {
  const t = utteranceId === null ? undefined : chapter.table.get(utteranceId);
  return !!t && t.text_normalized !== null && t.text_original !== null;
}

/** Parses a chapter's `.trans.tsv`: `id<TAB>original<TAB>normalized` per line. */
export function parseChapterTable(text: string): Map<string, Transcript> {
  const table = new Map<string, Transcript>();
  for (const line of text.split(LINE_BREAK)) {
    const cols = line.split('\t');
    if (cols.length < 2 || !cols[0]) continue;
    table.set(cols[0], { text_original: field(cols[1]), text_normalized: field(cols[2] ?? cols[1]) });
  }
  return table;
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
  for (const line of text.split(LINE_BREAK)) {
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
  for (const line of text.split(LINE_BREAK)) {
    if (line.trimStart().startsWith(';')) continue;
    const cols = line.split('|').map((c) => c.trim());
    const id = cols[0];
    if (!id || !/^\d+$/.test(id) || cols.length < 2) continue;
    // A name may itself contain '|'; everything after MINUTES is the name.
    out.set(id, { speaker_id: id, gender: cols[1] || null, subset: cols[2] || null, name: cols.slice(4).join('|') || null });
  }
  return out;
}

/**
 * Reads the root's `speakers.tsv` or `SPEAKERS.txt` when present, under the scan's file rules
 * (safe-open.ts) and size cap. Sync: it runs in a scan worker.
 */
export function readSpeakerInfo(root: string): SpeakerInfo[] {
  for (const [file, parse] of [
    ['speakers.tsv', parseSpeakersTsv],
    ['SPEAKERS.txt', parseSpeakersTxt],
  ] as const) {
    const text = readSmallFileUnder(root, fsPath(root, file), MAX_SPEAKER_TABLE_BYTES);
    if (text !== null) return [...parse(dropNul(text)).values()];
  }
  return [];
}
