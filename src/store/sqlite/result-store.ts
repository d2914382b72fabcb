import type Database from 'better-sqlite3';
import { RESULT_COLUMNS, type FileResult, type SummaryRow } from '../../domain/file-result.ts';
import { fromRow } from '../result-record.ts';
import { filterCondition, pageQueries, searchWords, type Dialect, type PagePlan, type ResultCursor, type ResultFilter, type SortKey } from '../result-query.ts';
import type { RecordedFile, RecordedPrint, ResultCounts, ResultPage, ResultsQuery, ResultStore, SpeakerRow, RowTarget, ReuseSource } from '../types.ts';
import { catalogIndexer } from './catalog-indexer.ts';
import { mainWrite, type SqliteDatabase } from './database.ts';
import { WRITE_GATE } from './write-gate.ts';
import { rowInserter } from './result-insert.ts';
import { rowDrops } from './row-drops.ts';
import { PATHS_PER_QUERY, ReuseRows } from './reuse-rows.ts';

const COLS = [...RESULT_COLUMNS, 'error_code', 'error_detail'];

const SORT_COLUMN: Record<SortKey, string> = { path: 'path', duration_s: 'duration_s', snr_db: 'snr_db', rms_dbfs: 'rms_dbfs', peak_dbfs: 'peak_dbfs', speaker_id: 'speaker_key' };

/** SQLite's side of result-query.ts: the catalog's columns, FTS5 for the transcripts. */
export const DIALECT: Dialect = {
  param: () => '?',
  column: (key) => SORT_COLUMN[key],
  // Probing asks FTS5 about one rowid (8 ms a page of a common word over 375k rows); the list
  // form builds a table of every match first (32 ms), which only pays when the matches are few.
  search: (param, probe) =>
    probe
      ? `EXISTS (SELECT 1 FROM catalog_text WHERE catalog_text MATCH ${param} AND rowid = catalog.rid)`
      : `rid IN (SELECT rowid FROM catalog_text WHERE catalog_text MATCH ${param})`,
  // The task's token, and each word as a quoted FTS5 string (letters and digits only, see
  // searchWords) that must occur in one of the two transcripts.
  searchValue: (words, task) => `task : "t${String(task)}" AND {text_normalized text_original} : (${words.map((w) => `"${w}"`).join(' AND ')})`,
};

/**
 * Below this many matching rows a page is read from the filter's best index and sorted (a few
 * thousand rows sort in a millisecond or two); above it, the sort's own index is walked in order,
 * where matching rows are dense enough to fill a page after a few thousand entries. SQLite's
 * planner, without statistics (ANALYZE takes 0.6 s of write lock per 375k rows), picks the first
 * for `min_snr_db=40&sort=rms_dbfs` (235 ms a page) and the second for one speaker's 153 rows
 * sorted by SNR (420 ms): the count the page comes with decides instead (bench/library.ts).
 */
const DENSE_ROWS = 20_000;

const SORT_INDEX: Record<SortKey, string> = {
  path: 'catalog_path',
  duration_s: 'catalog_duration',
  snr_db: 'catalog_snr',
  rms_dbfs: 'catalog_rms',
  peak_dbfs: 'catalog_peak',
  speaker_id: 'catalog_speaker',
};

/** Whether a page walks its sort's index (many matching rows) or reads the matches and sorts them. */
const isDense = (q: ResultsQuery): boolean => q.total === undefined || q.total > DENSE_ROWS;

/**
 * The index that finds a filter's rows fastest, by what the filter holds: without statistics
 * SQLite takes the first index on `task` it meets (a full scan of one speaker's index to find the
 * 756 failed rows: 210 ms). None for a search alone: the matches' rowids lead.
 */
function filterIndex(f: ResultFilter): string | null {
  if (f.only === 'failed') return 'catalog_failed';
  if (f.speaker_id?.length) return 'catalog_speaker';
  if (f.q !== undefined) return null;
  if (f.min_duration !== undefined || f.max_duration !== undefined) return 'catalog_duration';
  if (f.min_snr_db !== undefined) return 'catalog_snr';
  if (f.max_peak_dbfs !== undefined) return 'catalog_peak';
  // Every other filter column is in the duration index: a covering scan of it.
  return f.subset?.length || f.chapter_id?.length || f.clipped !== undefined || f.only === 'ok' ? 'catalog_duration' : null;
}

function planFor(q: ResultsQuery): PagePlan {
  // Dense: walk the index of the ORDER BY. Sparse: `+column` keeps SQLite from ordering by an
  // index, so it reads the matching rows through the filter's index and sorts them.
  if (isDense(q)) return { from: (key) => `catalog INDEXED BY ${SORT_INDEX[key]}`, order: (e) => e };
  // A search leads by its matches' rowids: NOT INDEXED keeps SQLite from scanning an index and
  // checking each entry against the list of matches instead (12 ms a page rather than 52 ms).
  const index = filterIndex(q.filter);
  return { from: () => (index ? `catalog INDEXED BY ${index}` : q.filter.q !== undefined ? 'catalog NOT INDEXED' : 'catalog'), order: (e) => `+${e}` };
}

/**
 * How to count a filter's rows. A search leads from the full-text index: the task's matches are
 * counted there alone (17 ms for a word in 44% of 375k rows), or each match's catalog row is
 * checked against the other filters by rowid (65 ms; listing the matches for the catalog's side
 * took 164 ms). Otherwise the filter's index, covering where it can (filterIndex).
 */
function countQuery(seq: number, filter: ResultFilter, plain: boolean): { sql: string; params: unknown[] } | null {
  if (plain) {
    const cond = filterCondition(DIALECT, 'task', seq, filter);
    return { sql: `SELECT COUNT(*) AS n FROM results WHERE ${cond.sql}`, params: cond.params };
  }
  if (filter.q !== undefined) {
    const words = searchWords(filter.q);
    if (!words.length) return null;
    const { q: _q, ...rest } = filter;
    const match = DIALECT.searchValue(words, seq);
    if (Object.values(rest).every((v) => v === undefined)) return { sql: 'SELECT COUNT(*) AS n FROM catalog_text WHERE catalog_text MATCH ?', params: [match] };
    const cond = filterCondition(DIALECT, 'catalog.task', seq, rest, 2);
    return {
      sql: `SELECT COUNT(*) AS n FROM catalog_text CROSS JOIN catalog ON catalog.rid = catalog_text.rowid WHERE catalog_text MATCH ? AND ${cond.sql}`,
      params: [match, ...cond.params],
    };
  }
  const cond = filterCondition(DIALECT, 'task', seq, filter);
  const index = filterIndex(filter);
  return { sql: `SELECT COUNT(*) AS n FROM catalog${index ? ` INDEXED BY ${index}` : ''} WHERE ${cond.sql}`, params: cond.params };
}

/** A filter the results table answers alone, by path: none, or only good rows (failed ones have their own index in the catalog). */
const isPlain = (f: ResultFilter): boolean => Object.entries(f).every(([k, v]) => v === undefined || (k === 'only' && v === 'ok'));

/**
 * Results and speakers in SQLite. Recording stays one cheap insert per row; filtering, sorting
 * and search go to the catalog (indexes and FTS5), which the maintenance thread fills from the
 * recorded rows and which a query first asks to catch up. Plain pages by path read the results
 * table itself.
 */
export class SqliteResultStore implements ResultStore {
  private readonly stmt;
  private readonly insertMany: ReturnType<typeof rowInserter>;
  private readonly byPaths = new Map<number, Database.Statement>();
  private readonly byRids = new Map<number, Database.Statement>();
  private readonly reuse: ReuseRows;
  private readonly queries = new Map<string, Database.Statement>();
  /** Plain pages' statements, in raw mode. */
  private readonly rawQueries = new Map<string, Database.Statement>();
  /** recordedPaths' two statements (with and without an upper bound). */
  private readonly pathQueries = new Map<string, Database.Statement>();
  private readonly indexInline: (() => void) | null;
  /** replaceSpeakers' transaction, made once (making one costs ~12 µs: sqlite/event-log.ts). */
  private readonly speakersTx: Database.Transaction<(taskId: string, rows: SpeakerRow[]) => void>;
  private readonly deleteTx: Database.Transaction<(seq: number, paths: string[]) => void>;

  constructor(private readonly sql: SqliteDatabase) {
    const db = sql.db;
    this.stmt = {
      counts: db.prepare(
        'SELECT COUNT(*) AS done, COALESCE(SUM(error_code IS NOT NULL), 0) AS failed, COALESCE(SUM(CASE WHEN reused THEN 0 ELSE bytes END), 0) AS bytes, COALESCE(SUM(reused), 0) AS reused FROM results WHERE task = ?',
      ),
      deleteSpeakers: db.prepare('DELETE FROM speakers WHERE task_id = ?'),
      ridOf: db.prepare('SELECT rid FROM results WHERE task = ? AND path = ?').pluck(),
      insertSpeaker: db.prepare(
        'INSERT INTO speakers (task_id, speaker_id, name, gender, subsets, utterances, failed, duration_s, median_snr_db, reference_clip) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      speakers: db.prepare(
        'SELECT speaker_id, name, gender, subsets, utterances, failed, duration_s, median_snr_db, reference_clip FROM speakers WHERE task_id = ? ORDER BY CAST(speaker_id AS INTEGER), speaker_id',
      ),
      speaker: db.prepare(
        'SELECT speaker_id, name, gender, subsets, utterances, failed, duration_s, median_snr_db, reference_clip FROM speakers WHERE task_id = ? AND speaker_id = ?',
      ),
    };
    this.speakersTx = db.transaction((taskId: string, rows: SpeakerRow[]) => {
      this.stmt.deleteSpeakers.run(taskId);
      for (const r of rows)
        this.stmt.insertSpeaker.run(taskId, r.speaker_id, r.name, r.gender, JSON.stringify(r.subsets), r.utterances, r.failed, r.duration_s, r.median_snr_db, r.reference_clip);
    });
    const drops = rowDrops(db);
    this.deleteTx = db.transaction((seq: number, paths: string[]) => {
      for (const p of paths) {
        const rid = this.stmt.ridOf.get(seq, p) as number | undefined;
        if (rid !== undefined) drops.row(rid);
      }
      drops.lowerWatermark();
    });
    this.insertMany = rowInserter(db);
    this.reuse = new ReuseRows(db);
    // `:memory:` has no maintenance thread (no second connection sees it): index on the spot.
    this.indexInline = sql.maintenance ? null : catalogIndexer(db);
  }

  private seq(taskId: string): number {
    const seq = this.sql.seqOf(taskId);
    if (seq === null) throw new Error(`unknown task ${taskId}`);
    return seq;
  }

  /** A statement made once per key and kept; `raw`: its rows come back as arrays (result-record.ts fromRow). A cache holds statements of one mode. */
  private statement(cache: Map<string | number, Database.Statement>, key: string | number, sql: () => string, raw = false): Database.Statement {
    let st = cache.get(key);
    if (!st) {
      if (cache.size > 200) cache.clear();
      st = this.sql.db.prepare(sql());
      if (raw) st.raw(true);
      cache.set(key, st);
    }
    return st;
  }

  private async catchUp(): Promise<void> {
    if (this.indexInline) this.indexInline();
    else await this.sql.maintenance!.catchUp();
  }

  threadWrites(taskId: string, reuse: ReuseSource | null = null): RowTarget | null {
    // `:memory:` is this connection's alone.
    if (!this.sql.maintenance) return null;
    const from = reuse ? this.sql.seqOf(reuse.taskId) : null;
    return {
      db: this.sql.file,
      task: this.seq(taskId),
      gate: WRITE_GATE.buffer as SharedArrayBuffer,
      ...(from !== null ? { reuse: { from, headerOnly: reuse!.headerOnly } } : {}),
    };
  }

  async insertResults(taskId: string, rows: RecordedFile[]): Promise<void> {
    const seq = this.seq(taskId);
    if (!rows.length) return;
    await mainWrite(() => this.insertMany(seq, rows));
  }

  async page(taskId: string, q: ResultsQuery): Promise<ResultPage> {
    const seq = this.sql.seqOf(taskId);
    if (seq === null) return { rows: [], next: null };
    const plain = q.sort.key === 'path' && isPlain(q.filter);
    if (!plain) await this.catchUp();
    const cond = filterCondition(DIALECT, 'task', seq, q.filter, 1, { probe: isDense(q) });
    const col = DIALECT.column(q.sort.key);
    if (plain) {
      // The rows themselves, by path (one query: pageQueries' path order), as arrays (fromRow).
      const query = pageQueries(DIALECT, COLS.join(', '), 'results', cond, { ...q, limit: q.limit + 1 })[0]!;
      const st = this.statement(this.rawQueries, query.sql, () => query.sql, true);
      const found = (st.all(...query.params) as unknown[][]).map((v) => fromRow(v));
      const rows = found.slice(0, q.limit);
      const last = rows[rows.length - 1];
      return { rows, next: found.length > q.limit && last ? { value: null, path: last.path } : null };
    }
    const queries = pageQueries(DIALECT, `rid, path, ${col} AS sv`, planFor(q), cond, { ...q, limit: q.limit + 1 });
    const found: { rid: number; path: string; sv: number | string | null }[] = [];
    for (const query of queries) {
      if (found.length > q.limit) break;
      const st = this.statement(this.queries, query.sql, () => query.sql);
      found.push(...(st.all(...query.params.slice(0, -1), q.limit + 1 - found.length) as { rid: number; path: string; sv: number | string | null }[]));
    }
    const more = found.length > q.limit;
    const kept = found.slice(0, q.limit);
    const rows = this.byRid(kept.map((k) => k.rid));
    const last = kept[kept.length - 1];
    const next: ResultCursor | null = more && last ? { value: q.sort.key === 'path' ? null : (last.sv ?? null), path: last.path } : null;
    return { rows, next };
  }

  /** Full rows in the order of `rids`. */
  private byRid(rids: number[]): FileResult[] {
    if (!rids.length) return [];
    const st = this.statement(this.byRids, rids.length, () => `SELECT rid, ${COLS.join(', ')} FROM results WHERE rid IN (${rids.map(() => '?').join(', ')})`, true);
    const map = new Map((st.all(...rids) as unknown[][]).map((v) => [v[0] as number, fromRow(v, 1)]));
    return rids.map((rid) => map.get(rid)!).filter(Boolean);
  }

  async count(taskId: string, filter: ResultFilter): Promise<number> {
    const seq = this.sql.seqOf(taskId);
    if (seq === null) return 0;
    const plain = isPlain(filter);
    if (!plain) await this.catchUp();
    const sql = countQuery(seq, filter, plain);
    if (!sql) return 0;
    return (this.statement(this.queries, sql.sql, () => sql.sql).get(...sql.params) as { n: number }).n;
  }

  async resultsByPaths(taskId: string, paths: string[]): Promise<RecordedFile[]> {
    const seq = this.sql.seqOf(taskId);
    if (seq === null || paths.length === 0) return [];
    const out: RecordedFile[] = [];
    for (let i = 0; i < paths.length; i += PATHS_PER_QUERY) {
      const chunk = paths.slice(i, i + PATHS_PER_QUERY);
      const st = this.statement(
        this.byPaths,
        chunk.length,
        () => `SELECT ${COLS.join(', ')}, reused FROM results WHERE task = ? AND path IN (${chunk.map(() => '?').join(', ')})`,
        true,
      );
      for (const v of st.all(seq, ...chunk) as unknown[][]) out.push({ ...fromRow(v), reused: v[COLS.length] === 1 });
    }
    return out;
  }

  async resultCounts(taskId: string): Promise<ResultCounts> {
    const seq = this.sql.seqOf(taskId);
    if (seq === null) return { done: 0, failed: 0, bytes: 0, reused: 0 };
    return this.stmt.counts.get(seq) as ResultCounts;
  }

  async fingerprints(taskId: string, paths: string[]): Promise<Map<string, RecordedPrint>> {
    const seq = this.sql.seqOf(taskId);
    if (seq === null || paths.length === 0) return new Map();
    // The row ids stay in this database (ReuseRows.copyRows); the contract is the fingerprint.
    return new Map([...this.reuse.fingerprints(seq, paths)].map(([path, { bytes, mtime_ns, sidecars }]) => [path, { bytes, mtime_ns, sidecars }]));
  }

  async copyResults(from: string, to: string, paths: string[], headerOnly: boolean): Promise<SummaryRow[]> {
    const src = this.sql.seqOf(from);
    const dst = this.seq(to);
    if (src === null || paths.length === 0) return [];
    return mainWrite(() => this.reuse.copy(src, dst, paths, headerOnly));
  }

  async recordedPaths(taskId: string, page: { from?: string | undefined; to?: string | undefined; after?: string | undefined; limit: number }): Promise<string[]> {
    const seq = this.sql.seqOf(taskId);
    if (seq === null) return [];
    const low = page.after !== undefined && (page.from === undefined || page.after >= page.from) ? { op: '>', v: page.after } : { op: '>=', v: page.from ?? '' };
    const sql = `SELECT path FROM results WHERE task = ? AND path ${low.op} ?${page.to === undefined ? '' : ' AND path < ?'} ORDER BY path LIMIT ?`;
    const params = page.to === undefined ? [seq, low.v, page.limit] : [seq, low.v, page.to, page.limit];
    let st = this.pathQueries.get(sql);
    if (!st) this.pathQueries.set(sql, (st = this.sql.db.prepare(sql).pluck()));
    return st.all(...params) as string[];
  }

  async deleteResults(taskId: string, paths: string[]): Promise<void> {
    const seq = this.sql.seqOf(taskId);
    if (seq === null) return;
    for (let i = 0; i < paths.length; i += 500) {
      const chunk = paths.slice(i, i + 500);
      await mainWrite(() => this.deleteTx.immediate(seq, chunk));
    }
  }

  async replaceSpeakers(taskId: string, rows: SpeakerRow[]): Promise<void> {
    await mainWrite(() => this.speakersTx(taskId, rows));
  }

  async speakers(taskId: string): Promise<SpeakerRow[]> {
    return (this.stmt.speakers.all(taskId) as (Omit<SpeakerRow, 'subsets'> & { subsets: string })[]).map((r) => ({ ...r, subsets: JSON.parse(r.subsets) as string[] }));
  }

  async speaker(taskId: string, speakerId: string): Promise<SpeakerRow | null> {
    const r = this.stmt.speaker.get(taskId, speakerId) as (Omit<SpeakerRow, 'subsets'> & { subsets: string }) | undefined;
    return r ? { ...r, subsets: JSON.parse(r.subsets) as string[] } : null;
  }
}
