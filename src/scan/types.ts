import type { FileError } from './wav-header.ts';

export type Analysis = 'header' | 'full';

/** One scanned file: the row the store keeps and `scan-results` returns (API.md). */
export interface FileResult {
  path: string;
  subset: string | null;
  speaker_id: string | null;
  chapter_id: string | null;
  utterance_id: string | null;
  text_normalized: string | null;
  text_original: string | null;
  sample_rate: number | null;
  channels: number | null;
  bits_per_sample: number | null;
  encoding: string | null;
  frames: number | null;
  duration_s: number | null;
  bytes: number | null;
  peak_dbfs: number | null;
  rms_dbfs: number | null;
  clipped_samples: number | null;
  dc_offset: number | null;
  leading_silence_s: number | null;
  trailing_silence_s: number | null;
  error: FileError | null;
}

/** The order of result columns in exports (CSV header). */
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
] as const satisfies readonly (keyof FileResult)[];

/** A discovered file, relative to the scan root (always `/`-separated). */
export interface DiscoveredFile {
  rel: string;
  /** The directory entry is a symlink: the worker must check where it leads. */
  link: boolean;
}

/** Main thread → scan worker. */
export interface BatchRequest {
  type: 'batch';
  id: number;
  root: string;
  analysis: Analysis;
  files: DiscoveredFile[];
}

/** Scan worker → main thread. */
export interface BatchResponse {
  type: 'result';
  id: number;
  results: FileResult[];
}

/** Faults a test can inject into scan workers (see test/scan/worker-pool.test.ts). */
export interface WorkerFaults {
  /** A worker exits when it reaches a file whose path ends with this. */
  crashOn?: string;
}
