import type Database from 'better-sqlite3';
import { RESULT_COLUMNS, SIGNAL_FIELDS, type SummaryRow } from '../../domain/file-result.ts';
import { SUMMARY_RETURNED, summaryOf, type ResultRecord } from '../result-record.ts';
import type { RecordedPrint } from '../types.ts';

/** What a reused row takes from the one it copies: every column but the task and the flag. */
const COPIED = [...RESULT_COLUMNS, 'error_code', 'error_detail', 'mtime_ns', 'sidecars'];
/** SQLite's default limit on bound parameters is 32766; path lookups go in chunks well below it. */
export const PATHS_PER_QUERY = 500;

/**
 * A rescan's two statements on one connection: the fingerprints a reference scan recorded, and
 * the copy of its rows into the new task. The store's own connection uses them (result-store.ts),
 * and so does a scan thread's (row-writer.ts), which reuses the files of its batch itself.
 * Statements are made per chunk length and kept (a 500-path chunk's text is ~1 KB to parse).
 */
export class ReuseRows {
  private readonly prints = new Map<number, Database.Statement>();
  private readonly copies = new Map<string, Database.Statement>();
  private readonly kept = new Map<number, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  /** The fingerprints task `src` recorded for `paths` (rows read cleanly only), by path. */
  fingerprints(src: number, paths: readonly string[]): Map<string, RecordedPrint> {
    const out = new Map<string, RecordedPrint>();
    for (let i = 0; i < paths.length; i += PATHS_PER_QUERY) {
      const chunk = paths.slice(i, i + PATHS_PER_QUERY);
      let st = this.prints.get(chunk.length);
      if (!st) {
        if (this.prints.size > 64) this.prints.clear();
        // safeIntegers: an mtime in nanoseconds is past 2^53, exact only as a BigInt.
        const sql = `SELECT path, bytes, mtime_ns, sidecars FROM results WHERE task = ? AND path IN (${chunk.map(() => '?').join(', ')}) AND mtime_ns IS NOT NULL AND sidecars IS NOT NULL`;
        this.prints.set(chunk.length, (st = this.db.prepare(sql).safeIntegers(true)));
      }
      for (const r of st.all(src, ...chunk) as { path: string; bytes: bigint | null; mtime_ns: bigint; sidecars: string }[]) {
        if (r.bytes !== null) out.set(r.path, { bytes: Number(r.bytes), mtime_ns: String(r.mtime_ns), sidecars: r.sidecars });
      }
    }
    return out;
  }

  /**
   * Copies task `src`'s rows at `paths` into task `dst`, marked reused; `headerOnly` leaves the
   * signal fields null. A path `dst` has already keeps its row. Returns the rows copied (those
   * `src` still had). The caller holds the write (one transaction around it).
   */
  copy(src: number, dst: number, paths: readonly string[], headerOnly: boolean): SummaryRow[] {
    const copied: SummaryRow[] = [];
    for (let i = 0; i < paths.length; i += PATHS_PER_QUERY) {
      const chunk = paths.slice(i, i + PATHS_PER_QUERY);
      const key = `${headerOnly}:${chunk.length}`;
      let st = this.copies.get(key);
      if (!st) {
        if (this.copies.size > 64) this.copies.clear();
        const select = COPIED.map((c) => (headerOnly && (SIGNAL_FIELDS as readonly string[]).includes(c) ? 'NULL' : c)).join(', ');
        const sql =
          `INSERT INTO results (task, ${COPIED.join(', ')}, reused) SELECT ?, ${select}, 1 FROM results ` +
          `WHERE task = ? AND path IN (${chunk.map(() => '?').join(', ')}) ON CONFLICT (task, path) DO NOTHING RETURNING ${SUMMARY_RETURNED}`;
        this.copies.set(key, (st = this.db.prepare(sql)));
      }
      for (const r of st.all(dst, src, ...chunk) as ResultRecord[]) copied.push(summaryOf(r));
    }
    return copied;
  }

  /**
   * The rows task `dst` holds at `paths` as copies (reused): those an earlier attempt at the same
   * batch copied before its thread crashed, which a retry must count as copied, not read.
   */
  copiedBefore(dst: number, paths: readonly string[]): SummaryRow[] {
    const out: SummaryRow[] = [];
    for (let i = 0; i < paths.length; i += PATHS_PER_QUERY) {
      const chunk = paths.slice(i, i + PATHS_PER_QUERY);
      let st = this.kept.get(chunk.length);
      if (!st) {
        if (this.kept.size > 64) this.kept.clear();
        this.kept.set(chunk.length, (st = this.db.prepare(`SELECT ${SUMMARY_RETURNED} FROM results WHERE task = ? AND reused = 1 AND path IN (${chunk.map(() => '?').join(', ')})`)));
      }
      for (const r of st.all(dst, ...chunk) as ResultRecord[]) out.push(summaryOf(r));
    }
    return out;
  }
}
