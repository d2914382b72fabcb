import { describe, expect, it } from 'vitest';
import { RESULT_COLUMNS, SUMMARY_COLUMNS } from '../../src/domain/file-result.ts';
import { fromRecord, fromRow, summaryFromRow, summaryOf, type ResultRecord } from '../../src/store/result-record.ts';

/** A stored row whose every column holds a value of its own, so that a column read from the wrong place shows. */
function record(error: boolean): ResultRecord {
  const rec = Object.fromEntries(RESULT_COLUMNS.map((c, i) => [c, /_id$|path|subset|text|encoding/.test(c) ? `${c}-${i}` : i + 0.5])) as unknown as ResultRecord;
  return { ...rec, error_code: error ? 'TRUNCATED' : null, error_detail: error ? 'cut short' : null };
}

describe('rows read as arrays (raw mode) become the same results as rows read as objects', () => {
  it('fromRow: the same keys in the same order (the JSON of every row) and the same values, from any offset', () => {
    for (const error of [false, true]) {
      const rec = record(error);
      const values = [...RESULT_COLUMNS.map((c) => rec[c]), rec.error_code, rec.error_detail];
      expect(JSON.stringify(fromRow(values))).toBe(JSON.stringify(fromRecord(rec)));
      expect(JSON.stringify(fromRow([42, ...values], 1))).toBe(JSON.stringify(fromRecord(rec)));
    }
    // An error code with no detail stored reads as an empty detail, as fromRecord has it.
    const bare = { ...record(true), error_detail: null };
    expect(fromRow([...RESULT_COLUMNS.map((c) => bare[c]), 'TRUNCATED', null]).error).toEqual({ code: 'TRUNCATED', detail: '' });
  });

  it('summaryFromRow: as summaryOf', () => {
    for (const error of [false, true]) {
      const rec = record(error);
      const values = [...SUMMARY_COLUMNS.map((c) => rec[c]), rec.error_code, rec.error_detail];
      expect(JSON.stringify(summaryFromRow(values))).toBe(JSON.stringify(summaryOf(rec)));
    }
  });
});
