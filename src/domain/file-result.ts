import { z } from 'zod';

/** How much of each file a scan reads: the header only, or every sample too. */
export const AnalysisSchema = z.enum(['header', 'full']);
export type Analysis = z.infer<typeof AnalysisSchema>;

/** Per-file error codes of a scan result (API.md "scan-results"). */
export const FILE_ERROR_CODES = [
  'NOT_RIFF_WAVE',
  'TRUNCATED',
  'INVALID_FORMAT',
  'UNSUPPORTED_ENCODING',
  'READ_ERROR',
  'OUTSIDE_ROOT',
  'WORKER_CRASHED',
] as const;
export const FileErrorCodeSchema = z.enum(FILE_ERROR_CODES);
export type FileErrorCode = z.infer<typeof FileErrorCodeSchema>;

export const FileErrorSchema = z.object({ code: FileErrorCodeSchema, detail: z.string() });
export type FileError = z.infer<typeof FileErrorSchema>;

const num = z.number().nullable();
const int = z.number().int().nullable();
const text = z.string().nullable();

/** One scanned file: the row the store keeps and `scan-results` returns (API.md). */
export const FileResultSchema = z.object({
  path: z.string().describe('Relative to the scanned root, `/`-separated; bytes that are not UTF-8 appear as `\\xHH` and a backslash as `\\\\`'),
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
  'peak_dbfs',
  'rms_dbfs',
  'clipped_samples',
  'dc_offset',
  'leading_silence_s',
  'trailing_silence_s',
  'snr_db',
] as const satisfies readonly (keyof FileResult)[];

/** The signal fields a header-only scan leaves null. */
export const SIGNAL_FIELDS = ['peak_dbfs', 'rms_dbfs', 'clipped_samples', 'dc_offset', 'leading_silence_s', 'trailing_silence_s', 'snr_db'] as const satisfies readonly (keyof FileResult)[];
