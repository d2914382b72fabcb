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
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  /** The fingerprints task `src` recorded for `paths` (rows read cleanly only), by path. */
  fingerprints(src: number, paths: readonly string[]): Map<string, RecordedPrint> {
    // safeIntegers: an mtime in nanoseconds is past 2^53, exact only as a BigInt.
    const rows = this.byPaths<{ path: string; bytes: bigint | null; mtime_ns: bigint; sidecars: string }>(
      'prints',
      (marks) => `SELECT path, bytes, mtime_ns, sidecars FROM results WHERE task = ? AND path IN (${marks}) AND mtime_ns IS NOT NULL AND sidecars IS NOT NULL`,
      [src],
      paths,
      true,
    );
    const out = new Map<string, RecordedPrint>();
    for (const r of rows) if (r.bytes !== null) out.set(r.path, { bytes: Number(r.bytes), mtime_ns: String(r.mtime_ns), sidecars: r.sidecars });
    return out;
  }

  /**
   * Copies task `src`'s rows at `paths` into task `dst`, marked reused; `headerOnly` leaves the
   * signal fields null. A path `dst` has already keeps its row. Returns the rows copied (those
   * `src` still had). The caller holds the write (one transaction around it).
   */
  copy(src: number, dst: number, paths: readonly string[], headerOnly: boolean): SummaryRow[] {
    const select = COPIED.map((c) => (headerOnly && (SIGNAL_FIELDS as readonly string[]).includes(c) ? 'NULL' : c)).join(', ');
    return this.byPaths<ResultRecord>(
      `copy:${headerOnly}`,
      (marks) =>
        `INSERT INTO results (task, ${COPIED.join(', ')}, reused) SELECT ?, ${select}, 1 FROM results ` +
        `WHERE task = ? AND path IN (${marks}) ON CONFLICT (task, path) DO NOTHING RETURNING ${SUMMARY_RETURNED}`,
      [dst, src],
      paths,
    ).map(summaryOf);
  }

  /**
   * The rows task `dst` holds at `paths` as copies (reused): those an earlier attempt at the same
   * batch copied before its thread crashed, which a retry must count as copied, not read.
   */
  copiedBefore(dst: number, paths: readonly string[]): SummaryRow[] {
    return this.byPaths<ResultRecord>('kept', (marks) => `SELECT ${SUMMARY_RETURNED} FROM results WHERE task = ? AND reused = 1 AND path IN (${marks})`, [dst], paths).map(
      summaryOf,
    );
  }

  /**
   * Every row of a statement over `paths`, PATHS_PER_QUERY at a time: `sql` is given the chunk's
   * placeholders, `lead` the parameters bound before its paths. The statement of each kind and
   * chunk length is made once and kept.
   */
  private byPaths<R>(kind: string, sql: (marks: string) => string, lead: readonly unknown[], paths: readonly string[], safeIntegers = false): R[] {
    const out: R[] = [];
    for (let i = 0; i < paths.length; i += PATHS_PER_QUERY) {
      const chunk = paths.slice(i, i + PATHS_PER_QUERY);
      const key = `${kind}:${chunk.length}`;
      let st = this.statements.get(key);
      if (!st) {
        if (this.statements.size > 200) this.statements.clear();
        st = this.db.prepare(sql(chunk.map(() => '?').join(', ')));
        if (safeIntegers) st.safeIntegers(true);
        this.statements.set(key, st);
      }
      for (const r of st.all(...lead, ...chunk) as R[]) out.push(r);
    }
    return out;
  }
}
