import { z } from 'zod';

/** How much of each file a scan reads: the header only, or every sample too. */
export const AnalysisSchema = z.enum(['header', 'full']);
export type Analysis = z.infer<typeof AnalysisSchema>;

/** Per-file error codes of a scan result (API.md "scan-results"). */
export const FILE_ERROR_CODES = ['NOT_RIFF_WAVE', 'TRUNCATED', 'INVALID_FORMAT', 'UNSUPPORTED_ENCODING', 'READ_ERROR', 'OUTSIDE_ROOT', 'WORKER_CRASHED'] as const;
export const FileErrorCodeSchema = z.enum(FILE_ERROR_CODES);
export type FileErrorCode = z.infer<typeof FileErrorCodeSchema>;

export const FileErrorSchema = z.object({ code: FileErrorCodeSchema, detail: z.string() });
export type FileError = z.infer<typeof FileErrorSchema>;

const num = z.number().nullable();
const int = z.number().int().nullable();
const text = z.string().nullable();

/** One scanned file: the row the store keeps and `scan-results` returns (API.md). */
export const FileResultSchema = z.object({
  path: z.string().describe('Relative to the scanned root, `/`-separated; bytes that are not UTF-8 appear as `\\xHH` and a backslash as `\\\\`. A folder that could not be listed is a failed row whose path ends in `/` (`./`: the root)'),
  subset: text,
  speaker_id: text,
  chapter_id: text,
  utterance_id: text,
  text_normalized: text,
  text_original: text,
  sample_rate: int,
  channels: int,
  bits_per_sample: int,
  encoding: text,
  frames: int,
  duration_s: num,
  bytes: int,
  peak_dbfs: num,
  rms_dbfs: num,
  clipped_samples: int,
  dc_offset: num,
  leading_silence_s: num,
  trailing_silence_s: num,
  snr_db: num.describe('Estimated speech-to-noise ratio in dB (full analysis), capped at 100; the README names the method'),
  error: FileErrorSchema.nullable(),
});
export type FileResult = z.infer<typeof FileResultSchema>;

/** The signal fields a header-only scan leaves null. */
export const SIGNAL_FIELDS = [
  'peak_dbfs',
  'rms_dbfs',
  'clipped_samples',
  'dc_offset',
  'leading_silence_s',
  'trailing_silence_s',
  'snr_db',
] as const satisfies readonly (keyof FileResult)[];

/** The order of result columns in exports (CSV header); `error` follows as two columns. */
export const RESULT_COLUMNS = [
  'path',
  'subset',
  'speaker_id',
  'chapter_id',
  'utterance_id',
  'text_normalized',
  'text_original',
  'sample_rate',
  'channels',
  'bits_per_sample',
  'encoding',
  'frames',
  'duration_s',
  'bytes',
  ...SIGNAL_FIELDS,
] as const satisfies readonly (keyof FileResult)[];

/**
 * A row as recorded, with what an incremental rescan compares (API.md `reuse`): the file's
 * modification time in nanoseconds (a decimal string; null when the file was not read cleanly,
 * which makes the row one never to reuse), and `sidecars`: the transcript files that decided the
 * row's text, as JSON `{ name: "size:mtime_ns" | "-" (absent) }` by name in the file's folder.
 * `reused`: the row was copied from an earlier scan rather than read.
 */
export type RecordedFile = FileResult & { mtime_ns?: string | null | undefined; sidecars?: string | null | undefined; reused?: boolean | undefined };

/**
 * The columns a scan's summary and reference-clip choice read of a row (scan/summary.ts,
 * reference-clips.ts): what a rescan takes back of the rows it copies. Returning whole rows
 * from the copy cost 45 of its 70 ms for 5,469 rows in SQLite.
 */
export const SUMMARY_COLUMNS = [
  'path',
  'subset',
  'speaker_id',
  'sample_rate',
  'duration_s',
  'bytes',
  'snr_db',
  'clipped_samples',
  'leading_silence_s',
  'trailing_silence_s',
  'peak_dbfs',
  'rms_dbfs',
  'text_normalized',
  'text_original',
] as const satisfies readonly (keyof FileResult)[];
export type SummaryRow = Pick<FileResult, (typeof SUMMARY_COLUMNS)[number] | 'error'>;

/** What rows add up to for progress and metrics: how many, how many failed, their bytes, and how many by outcome ('ok' or an error code). */
export interface Tally {
  rows: number;
  failed: number;
  bytes: number;
  outcomes: Record<string, number>;
}

export function tally(rows: readonly Pick<FileResult, 'error' | 'bytes'>[]): Tally {
  const outcomes: Record<string, number> = {};
  let failed = 0;
  let bytes = 0;
  for (const r of rows) {
    const outcome = r.error ? r.error.code : 'ok';
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    if (r.error) failed++;
    bytes += r.bytes ?? 0;
  }
  return { rows: rows.length, failed, bytes, outcomes };
}

/** What a rescan's walk sees of a file before reading it (walk.ts), to match a recorded row. */
export interface FileFingerprint {
  size: number;
  mtime_ns: string;
  /** The transcript files a scan may consult for this file, by name: "size:mtime_ns", "-" (absent) or "x" (not a regular file). */
  sidecars: Record<string, string>;
}
