import type { FileResult } from '../domain/file-result.ts';
import type { TextChoice } from './types.ts';

/**
 * Transcripts and names as line formats can hold them. Every run of whitespace, control
 * characters and Unicode line or paragraph separators becomes one space, trimmed at both ends:
 * a Kaldi `text` line or a CSV row never breaks. `pipe`: `|`, the column separator of LJSpeech
 * and Coqui metadata, becomes a space too (their readers split on it without quoting).
 */
export function cleanText(s: string, opts: { pipe?: boolean } = {}): string {
  const spaced = s.replace(/[\s\p{Cc}\u2028\u2029\u0085]+/gu, ' ');
  return (opts.pipe ? spaced.replace(/\|/g, ' ').replace(/ {2,}/g, ' ') : spaced).trim();
}

/**
 * The transcript a manifest carries: the chosen one, else the other one (a clip with only one
 * of the two still has words); null when the clip has none, and such a clip is left out of every
 * training manifest (none of the toolkits takes a line without text).
 */
export function chosenText(r: FileResult, choice: TextChoice): string | null {
  const first = choice === 'original' ? r.text_original : r.text_normalized;
  const second = choice === 'original' ? r.text_normalized : r.text_original;
  for (const t of [first, second]) {
    if (t === null) continue;
    const clean = cleanText(t);
    if (clean) return clean;
  }
  return null;
}

/** Whether a path can stand in a line format: no line break (nor `|` for the pipe formats). */
export const lineSafe = (p: string, pipe = false): boolean => !/[\r\n\u2028\u2029\u0085]/.test(p) && !(pipe && p.includes('|'));

/** The file's absolute path under the export's root. */
export const absolutePath = (root: string, rel: string): string => `${root}/${rel}`;

/** Duration from the frame count when there is one (exact), else the rounded duration_s. */
export function exactDuration(r: FileResult): number | null {
  if (r.frames !== null && r.sample_rate) return r.frames / r.sample_rate;
  return r.duration_s;
}

/**
 * Buffers small writes into ~64 KiB chunks: one await per chunk instead of per line keeps a
 * 375k-row export from spending its time in promise turns.
 */
export class LineBuffer {
  private buf = '';
  constructor(private readonly out: { write(chunk: string): Promise<unknown> | unknown }) {}

  async add(line: string): Promise<void> {
    this.buf += line;
    if (this.buf.length >= 64 * 1024) await this.flush();
  }

  async flush(): Promise<void> {
    if (!this.buf) return;
    const chunk = this.buf;
    this.buf = '';
    await this.out.write(chunk);
  }
}
