import { describe, expect, it } from 'vitest';
import { RESULT_COLUMNS, SUMMARY_COLUMNS, type FileErrorCode, type FileResult } from '../../src/domain/file-result.ts';
import { fromRow, summaryFromRow } from '../../src/store/result-record.ts';

/** A result as both stores keep it: the error as two columns. */
type ResultRecord = Omit<FileResult, 'error'> & { error_code: string | null; error_detail: string | null };

/** The plain definition fromRow and summaryFromRow must give: the listed columns of a row object, key by key, then its error. */
function oracle(rec: ResultRecord, columns: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of columns) out[k] = rec[k as keyof ResultRecord];
  out.error = rec.error_code ? { code: rec.error_code as FileErrorCode, detail: rec.error_detail ?? '' } : null;
  return out;
}

/** A stored row whose every column holds a value of its own, so that a column read from the wrong place shows. */
function record(error: boolean): ResultRecord {
  const rec = Object.fromEntries(RESULT_COLUMNS.map((c, i) => [c, /_id$|path|subset|text|encoding/.test(c) ? `${c}-${i}` : i + 0.5])) as unknown as ResultRecord;
  return { ...rec, error_code: error ? 'TRUNCATED' : null, error_detail: error ? 'cut short' : null };
}

describe('rows read as arrays become results: the columns of the row, key by key, then its error', () => {
  it('fromRow: the same keys in the same order (the JSON of every row) and the same values, from any offset', () => {
    const fromRecord = (rec: ResultRecord) => oracle(rec, RESULT_COLUMNS);
    for (const error of [false, true]) {
      const rec = record(error);
      const values = [...RESULT_COLUMNS.map((c) => rec[c]), rec.error_code, rec.error_detail];
      expect(JSON.stringify(fromRow(values))).toBe(JSON.stringify(fromRecord(rec)));
      expect(JSON.stringify(fromRow([42, ...values], 1))).toBe(JSON.stringify(fromRecord(rec)));
    }
    // An error code with no detail stored reads as an empty detail.
    const bare = { ...record(true), error_detail: null };
    expect(fromRow([...RESULT_COLUMNS.map((c) => bare[c]), 'TRUNCATED', null]).error).toEqual({ code: 'TRUNCATED', detail: '' });
  });

  it('summaryFromRow: the summary’s columns the same way', () => {
    const summaryOf = (rec: ResultRecord) => oracle(rec, SUMMARY_COLUMNS);
    for (const error of [false, true]) {
      const rec = record(error);
      const values = [...SUMMARY_COLUMNS.map((c) => rec[c]), rec.error_code, rec.error_detail];
      expect(JSON.stringify(summaryFromRow(values))).toBe(JSON.stringify(summaryOf(rec)));
    }
  });
});
