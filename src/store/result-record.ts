import { RESULT_COLUMNS, SUMMARY_COLUMNS, type FileErrorCode, type FileResult, type SummaryRow } from '../domain/file-result.ts';

/** What a rescan's copy returns of each row (SummaryRow), as a column list. */
export const SUMMARY_RETURNED = [...SUMMARY_COLUMNS, 'error_code', 'error_detail'].join(', ');

/** Where each of RESULT_COLUMNS is in a row read as an array. */
const AT = Object.fromEntries(RESULT_COLUMNS.map((c, i) => [c, i])) as Record<(typeof RESULT_COLUMNS)[number], number>;
const ERROR_AT = RESULT_COLUMNS.length;

/**
 * A stored row as a result, from its RESULT_COLUMNS then error_code, error_detail read as an array
 * (better-sqlite3's raw mode, pg's `rowMode: 'array'`), from index `at` on. The drivers make a row
 * object one property at a time, and copying it key by key into a result cost as much again:
 * together ~8 µs of the ~28 µs a row an SQLite export of 60,000 rows cost. One object literal
 * instead, in RESULT_COLUMNS' order (the order of the keys of every JSON row); the compiler checks
 * its keys against FileResult.
 */
export function fromRow(v: readonly unknown[], at = 0): FileResult {
  const code = v[at + ERROR_AT] as string | null;
  return {
    path: v[at + AT.path] as FileResult['path'],
    subset: v[at + AT.subset] as FileResult['subset'],
    speaker_id: v[at + AT.speaker_id] as FileResult['speaker_id'],
    chapter_id: v[at + AT.chapter_id] as FileResult['chapter_id'],
    utterance_id: v[at + AT.utterance_id] as FileResult['utterance_id'],
    text_normalized: v[at + AT.text_normalized] as FileResult['text_normalized'],
    text_original: v[at + AT.text_original] as FileResult['text_original'],
    sample_rate: v[at + AT.sample_rate] as FileResult['sample_rate'],
    channels: v[at + AT.channels] as FileResult['channels'],
    bits_per_sample: v[at + AT.bits_per_sample] as FileResult['bits_per_sample'],
    encoding: v[at + AT.encoding] as FileResult['encoding'],
    frames: v[at + AT.frames] as FileResult['frames'],
    duration_s: v[at + AT.duration_s] as FileResult['duration_s'],
    bytes: v[at + AT.bytes] as FileResult['bytes'],
    peak_dbfs: v[at + AT.peak_dbfs] as FileResult['peak_dbfs'],
    rms_dbfs: v[at + AT.rms_dbfs] as FileResult['rms_dbfs'],
    clipped_samples: v[at + AT.clipped_samples] as FileResult['clipped_samples'],
    dc_offset: v[at + AT.dc_offset] as FileResult['dc_offset'],
    leading_silence_s: v[at + AT.leading_silence_s] as FileResult['leading_silence_s'],
    trailing_silence_s: v[at + AT.trailing_silence_s] as FileResult['trailing_silence_s'],
    snr_db: v[at + AT.snr_db] as FileResult['snr_db'],
    error: code ? { code: code as FileErrorCode, detail: (v[at + ERROR_AT + 1] as string | null) ?? '' } : null,
  } satisfies Record<keyof FileResult, unknown>;
}

/** Where each of SUMMARY_RETURNED's columns is in a row read as an array. */
const SUMMARY_AT = Object.fromEntries(SUMMARY_COLUMNS.map((c, i) => [c, i])) as Record<(typeof SUMMARY_COLUMNS)[number], number>;
const SUMMARY_ERROR_AT = SUMMARY_COLUMNS.length;

/** The summary's columns of a stored row, from SUMMARY_RETURNED read as an array: as fromRow, in SUMMARY_COLUMNS' order. */
export function summaryFromRow(v: readonly unknown[]): SummaryRow {
  const code = v[SUMMARY_ERROR_AT] as string | null;
  return {
    path: v[SUMMARY_AT.path] as SummaryRow['path'],
    subset: v[SUMMARY_AT.subset] as SummaryRow['subset'],
    speaker_id: v[SUMMARY_AT.speaker_id] as SummaryRow['speaker_id'],
    sample_rate: v[SUMMARY_AT.sample_rate] as SummaryRow['sample_rate'],
    duration_s: v[SUMMARY_AT.duration_s] as SummaryRow['duration_s'],
    bytes: v[SUMMARY_AT.bytes] as SummaryRow['bytes'],
    snr_db: v[SUMMARY_AT.snr_db] as SummaryRow['snr_db'],
    clipped_samples: v[SUMMARY_AT.clipped_samples] as SummaryRow['clipped_samples'],
    leading_silence_s: v[SUMMARY_AT.leading_silence_s] as SummaryRow['leading_silence_s'],
    trailing_silence_s: v[SUMMARY_AT.trailing_silence_s] as SummaryRow['trailing_silence_s'],
    peak_dbfs: v[SUMMARY_AT.peak_dbfs] as SummaryRow['peak_dbfs'],
    rms_dbfs: v[SUMMARY_AT.rms_dbfs] as SummaryRow['rms_dbfs'],
    text_normalized: v[SUMMARY_AT.text_normalized] as SummaryRow['text_normalized'],
    text_original: v[SUMMARY_AT.text_original] as SummaryRow['text_original'],
    error: code ? { code: code as FileErrorCode, detail: (v[SUMMARY_ERROR_AT + 1] as string | null) ?? '' } : null,
  } satisfies Record<keyof SummaryRow, unknown>;
}
