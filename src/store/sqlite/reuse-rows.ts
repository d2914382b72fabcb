import type Database from 'better-sqlite3';
import { RESULT_COLUMNS, SIGNAL_FIELDS, type SummaryRow } from '../../domain/file-result.ts';
import { SUMMARY_RETURNED, summaryFromRow } from '../result-record.ts';
import type { RecordedPrint } from '../types.ts';

/** What a reused row takes from the one it copies: every column but the task and the flag. */
const COPIED = [...RESULT_COLUMNS, 'error_code', 'error_detail', 'mtime_ns', 'sidecars'];
/** SQLite's default limit on bound parameters is 32766; path lookups go in chunks well below it. */
export const PATHS_PER_QUERY = 500;

/** A fingerprint as this database recorded it, with the row it is in (ReuseRows.copyRows). */
export interface StoredPrint extends RecordedPrint {
  rid: number;
}

/**
 * A rescan's statements on one connection: the fingerprints a reference scan recorded, and the
 * copy of its rows into the new task. The store's own connection uses them (result-store.ts),
 * and so does a scan thread's (row-writer.ts), which reuses the files of its batch itself.
 * Statements are made per chunk length and kept (a 500-path chunk's text is ~1 KB to parse).
 * Rows come back as arrays (raw mode), not objects: a row object costs ~1.8 µs more (result-record.ts fromRow).
 */
export class ReuseRows {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  /** The fingerprints task `src` recorded for `paths` (rows read cleanly only), by path. */
  fingerprints(src: number, paths: readonly string[]): Map<string, StoredPrint> {
    // safeIntegers: an mtime in nanoseconds is past 2^53, exact only as a BigInt.
    const rows = this.chunked<[bigint, string, bigint | null, bigint, string]>(
      'prints',
      (marks) => `SELECT rid, path, bytes, mtime_ns, sidecars FROM results WHERE task = ? AND path IN (${marks}) AND mtime_ns IS NOT NULL AND sidecars IS NOT NULL`,
      [src],
      paths,
      true,
    );
    const out = new Map<string, StoredPrint>();
    for (const [rid, path, bytes, mtime, sidecars] of rows) if (bytes !== null) out.set(path, { rid: Number(rid), bytes: Number(bytes), mtime_ns: String(mtime), sidecars });
    return out;
  }

  /**
   * Copies task `src`'s rows at `paths` into task `dst`, marked reused; `headerOnly` leaves the
   * signal fields null. A path `dst` has already keeps its row. Returns the rows copied (those
   * `src` still had). The caller holds the write (one transaction around it).
   */
  copy(src: number, dst: number, paths: readonly string[], headerOnly: boolean): SummaryRow[] {
    return this.chunked<unknown[]>(`copy:${headerOnly}`, (marks) => `${copyInto(headerOnly)} WHERE task = ? AND path IN (${marks}) ${COPY_END}`, [dst, src], paths).map(
      summaryFromRow,
    );
  }

  /**
   * As copy(), for the rows `rids` that fingerprints() gave: one look-up by row id each instead
   * of one by (task, path), ~0.5 µs a row less. Only rows still of task `src` are copied: a row
   * id freed by the deletion of `src` since may be another task's row by now.
   */
  copyRows(src: number, dst: number, rids: readonly number[], headerOnly: boolean): SummaryRow[] {
    // `+task`: the row ids decide the look-ups; the task is only checked (no index on it is used).
    return this.chunked<unknown[]>(`copyRows:${headerOnly}`, (marks) => `${copyInto(headerOnly)} WHERE +task = ? AND rid IN (${marks}) ${COPY_END}`, [dst, src], rids).map(
      summaryFromRow,
    );
  }

  /**
   * The rows task `dst` holds at `paths` as copies (reused): those an earlier attempt at the same
   * batch copied before its thread crashed, which a retry must count as copied, not read.
   */
  copiedBefore(dst: number, paths: readonly string[]): SummaryRow[] {
    return this.chunked<unknown[]>('kept', (marks) => `SELECT ${SUMMARY_RETURNED} FROM results WHERE task = ? AND reused = 1 AND path IN (${marks})`, [dst], paths).map(
      summaryFromRow,
    );
  }

  /**
   * Every row, as an array, of a statement over `values`, PATHS_PER_QUERY at a time: `sql` is
   * given the chunk's placeholders, `lead` the parameters bound before its values. The statement
   * of each kind and chunk length is made once and kept.
   */
  private chunked<R>(kind: string, sql: (marks: string) => string, lead: readonly unknown[], values: readonly (string | number)[], safeIntegers = false): R[] {
    const out: R[] = [];
    for (let i = 0; i < values.length; i += PATHS_PER_QUERY) {
      const chunk = values.slice(i, i + PATHS_PER_QUERY);
      const key = `${kind}:${chunk.length}`;
      let st = this.statements.get(key);
      if (!st) {
        if (this.statements.size > 200) this.statements.clear();
        st = this.db.prepare(sql(chunk.map(() => '?').join(', '))).raw(true);
        if (safeIntegers) st.safeIntegers(true);
        this.statements.set(key, st);
      }
      for (const r of st.all(...lead, ...chunk) as R[]) out.push(r);
    }
    return out;
  }
}

/** The copy's head: the new row of each row selected, `headerOnly` without the signal fields. */
function copyInto(headerOnly: boolean): string {
  const select = COPIED.map((c) => (headerOnly && (SIGNAL_FIELDS as readonly string[]).includes(c) ? 'NULL' : c)).join(', ');
  return `INSERT INTO results (task, ${COPIED.join(', ')}, reused) SELECT ?, ${select}, 1 FROM results`;
}
const COPY_END = `ON CONFLICT (task, path) DO NOTHING RETURNING ${SUMMARY_RETURNED}`;
