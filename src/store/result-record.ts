import { RESULT_COLUMNS, SUMMARY_COLUMNS, type FileErrorCode, type FileResult, type SummaryRow } from '../domain/file-result.ts';

/** A result as both stores keep it: the error as two columns. */
export type ResultRecord = Omit<FileResult, 'error'> & { error_code: string | null; error_detail: string | null };

/** What a rescan's copy returns of each row (SummaryRow), as a column list. */
export const SUMMARY_RETURNED = [...SUMMARY_COLUMNS, 'error_code', 'error_detail'].join(', ');

const errorOf = (rec: ResultRecord): FileResult['error'] => (rec.error_code ? { code: rec.error_code as FileErrorCode, detail: rec.error_detail ?? '' } : null);

/** A stored row as a result. */
export function fromRecord(rec: ResultRecord): FileResult {
  const out = {} as Record<string, unknown>;
  for (const k of RESULT_COLUMNS) out[k] = rec[k];
  out.error = errorOf(rec);
  return out as FileResult;
}

/** The summary's columns of a stored row (returned as SUMMARY_RETURNED). */
export function summaryOf(rec: ResultRecord): SummaryRow {
  const out = {} as Record<string, unknown>;
  for (const k of SUMMARY_COLUMNS) out[k] = rec[k];
  out.error = errorOf(rec);
  return out as SummaryRow;
}
