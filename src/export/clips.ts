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
  /** The utterance id: the LibriTTS id, else the file name without `.wav`. */
  id: string;
}

const stem = (p: string): string => p.slice(p.lastIndexOf('/') + 1).replace(/\.wav$/i, '');

/**
 * The task's rows as clips, in the export's order. Left out: rows without a transcript or a
 * duration (no toolkit here takes them); rows whose file name is not UTF-8, which no manifest's
 * text can name (its `\xHH` form is another name); and, for line formats, rows whose path holds
 * a line break (or `|` for the pipe-separated ones), which such a file cannot hold.
 */
export async function* clips(ctx: ExportContext, opts: { line?: boolean; pipe?: boolean } = {}): AsyncGenerator<Clip> {
  for await (const row of ctx.rows()) {
    if (row.error) continue;
    const text = chosenText(row, ctx.text);
    const duration = exactDuration(row);
    if (text === null || duration === null) continue;
    const path = unicodeName(row.path);
    if (path === null) continue;
    if ((opts.line || opts.pipe) && !lineSafe(path, opts.pipe)) continue;
    yield { row, path, text, duration, id: row.utterance_id ?? stem(path) };
  }
}
