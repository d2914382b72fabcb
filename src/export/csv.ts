import { RESULT_COLUMNS, type FileResult } from '../domain/file-result.ts';
import { LineBuffer } from './text.ts';
import type { ExportFormat } from './types.ts';

export const CSV_HEADER = [...RESULT_COLUMNS, 'error_code', 'error_detail'];

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One RFC 4180 CSV line (CRLF-terminated) for a result. */
export function csvLine(r: FileResult): string {
  const values: unknown[] = RESULT_COLUMNS.map((k) => r[k]);
  values.push(r.error?.code ?? null, r.error?.detail ?? null);
  return values.map(csvField).join(',') + '\r\n';
}

/** Every result row (failed ones too) as RFC 4180 CSV with a header line: `scan-results?format=csv`. */
export const csv: ExportFormat = {
  name: 'csv',
  contentType: 'text/csv; charset=utf-8',
  filename: (id) => `scan-${id}.csv`,
  async write(ctx, out) {
    const buf = new LineBuffer(out);
    await buf.add(CSV_HEADER.join(',') + '\r\n');
    for await (const r of ctx.rows()) {
      if (out.aborted) return;
      await buf.add(csvLine(r));
    }
    await buf.flush();
  },
};
