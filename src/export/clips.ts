import type { FileResult } from '../domain/file-result.ts';
import { unicodeName } from '../scan/file-names.ts';
import { chosenText, exactDuration, lineSafe } from './text.ts';
import type { ExportContext } from './types.ts';

/** A row a training manifest can hold: it has a transcript and a duration. */
export interface Clip {
  row: FileResult;
  /**
   * The file's path under the root by its real name: `row.path` writes a backslash as `\\`
   * (file-names.ts), which would name another file, or none.
   */
  path: string;
  /** The chosen transcript, whitespace-normalized. */
  text: string;
  /** Seconds: frames / sample_rate, exact. */
  duration: number;
  /**
   * The utterance id: the LibriTTS id, else the path under the root without `.wav`. Not the file
   * name alone: a dataset of `<speaker>/001.wav` folders gave every speaker's first clip the id
   * `001`, which Lhotse refuses as a duplicate and Kaldi kept only once (stop 23).
   */
  id: string;
}

const withoutWav = (p: string): string => p.replace(/\.wav$/i, '');

/**
 * The task's rows as clips, in the export's order. Left out: rows without a transcript or a
 * duration, or of duration 0 (no toolkit here takes them); rows whose file name is not UTF-8, which no manifest's
 * text can name (its `\xHH` form is another name); and, for line formats, rows whose path holds
 * a line break (or `|` for the pipe-separated ones), which such a file cannot hold.
 */
export async function* clips(ctx: ExportContext, opts: { line?: boolean; pipe?: boolean } = {}): AsyncGenerator<Clip> {
  for await (const row of ctx.rows()) {
    if (row.error) continue;
    const text = chosenText(row, ctx.text);
    const duration = exactDuration(row);
    // A clip of no samples (a valid header over an empty data chunk) is nothing to train on, and
    // Lhotse's validation refuses a recording or supervision of duration 0.
    if (text === null || duration === null || !(duration > 0)) continue;
    const path = unicodeName(row.path);
    if (path === null) continue;
    if ((opts.line || opts.pipe) && !lineSafe(path, opts.pipe)) continue;
    yield { row, path, text, duration, id: row.utterance_id ?? withoutWav(path) };
  }
}
