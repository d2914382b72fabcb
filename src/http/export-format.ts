import { RESULT_COLUMNS, type FileResult } from '../domain/file-result.ts';

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

export const csvHeaderLine = (): string => CSV_HEADER.join(',') + '\r\n';

export const jsonLine = (r: FileResult): string => JSON.stringify(r) + '\n';
