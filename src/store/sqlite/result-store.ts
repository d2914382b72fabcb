import type Database from 'better-sqlite3';
import { RESULT_COLUMNS, SIGNAL_FIELDS, type FileErrorCode, type FileResult } from '../../domain/file-result.ts';
import { filterCondition, pageQueries, type Dialect, type ResultCursor, type ResultFilter, type SortKey } from '../result-query.ts';
import type { RecordedFile, RecordedPrint, ResultCounts, ResultPage, ResultsQuery, ResultStore, SpeakerRow } from '../types.ts';
import { catalogIndexer } from './catalog-indexer.ts';
import { write, type SqliteDatabase } from './database.ts';

type ResultRecord = Omit<FileResult, 'error'> & { error_code: string | null; error_detail: string | null };

const COLS = [...RESULT_COLUMNS, 'error_code', 'error_detail'];
/** What a reused row takes from the one it copies: every column but the task and the flag. */
const COPIED = [...COLS, 'mtime_ns', 'sidecars'];
/** SQLite's default limit on bound parameters is 32766; path lookups go in chunks well below it. */
const PATHS_PER_QUERY = 500;

function fromRecord(rec: ResultRecord): FileResult {
  const out = {} as Record<string, unknown>;
  for (const k of RESULT_COLUMNS) out[k] = rec[k];
  out.error = rec.error_code ? { code: rec.error_code as FileErrorCode, detail: rec.error_detail ?? '' } : null;
  return out as FileResult;
}

const SORT_COLUMN: Record<SortKey, string> = { path: 'path', duration_s: 'duration_s', snr_db: 'snr_db', rms_dbfs: 'rms_dbfs', peak_dbfs: 'peak_dbfs', speaker_id: 'speaker_key' };

/** SQLite's side of result-query.ts: the catalog's columns, FTS5 for the transcripts. */
const DIALECT: Dialect = {
  param: () => '?',
  column: (key) => SORT_COLUMN[key],
  search: (param) => `rid IN (SELECT rowid FROM catalog_text WHERE catalog_text MATCH ${param})`,
  // Each word as a quoted FTS5 string (letters and digits only, see searchWords): all must occur.
  searchValue: (words) => words.map((w) => `"${w}"`).join(' '),
};

const isPlain = (f: ResultFilter): boolean => Object.entries(f).every(([k, v]) => v === undefined || k === 'only');

/**
 * Results and speakers in SQLite. Recording stays one cheap insert per row; filtering, sorting
 * and search go to the catalog (indexes and FTS5), which the maintenance thread fills from the
 * recorded rows and which a query first asks to catch up. Plain pages by path read the results
 * table itself.
 */
export class SqliteResultStore implements ResultStore {
  private readonly stmt;
  private readonly insertMany: (task: number, rows: RecordedFile[]) => void;
  private readonly byPaths = new Map<number, Database.Statement>();
  private readonly byRids = new Map<number, Database.Statement>();
  private readonly printsByPaths = new Map<number, Database.Statement>();
  private readonly copies = new Map<string, Database.Statement>();
  private readonly queries = new Map<string, Database.Statement>();
  private readonly indexInline: (() => void) | null;

  constructor(private readonly sql: SqliteDatabase) {
    const db = sql.db;
    this.stmt = {
      // Positional parameters: binding by name costs about twice as much per row. A path recorded
      // before (a resumed part) keeps its first row: rows never change, which the catalog relies on.
      insert: db.prepare(
        `INSERT INTO results (task, ${COLS.join(', ')}, mtime_ns, sidecars, reused) VALUES (?, ${COLS.map(() => '?').join(', ')}, ?, ?, ?) ON CONFLICT (task, path) DO NOTHING`,
      ),
      counts: db.prepare(
        'SELECT COUNT(*) AS done, COALESCE(SUM(error_code IS NOT NULL), 0) AS failed, COALESCE(SUM(CASE WHEN reused THEN 0 ELSE bytes END), 0) AS bytes, COALESCE(SUM(reused), 0) AS reused FROM results WHERE task = ?',
      ),
      deleteSpeakers: db.prepare('DELETE FROM speakers WHERE task_id = ?'),
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
    const insert = this.stmt.insert;
    this.insertMany = db.transaction((task: number, rows: RecordedFile[]) => {
      for (const r of rows) {
        insert.run(
          task,
          r.path,
          r.subset,
          r.speaker_id,
          r.chapter_id,
          r.utterance_id,
          r.text_normalized,
          r.text_original,
          r.sample_rate,
          r.channels,
          r.bits_per_sample,
          r.encoding,
          r.frames,
          r.duration_s,
          r.bytes,
          r.peak_dbfs,
          r.rms_dbfs,
          r.clipped_samples,
          r.dc_offset,
          r.leading_silence_s,
          r.trailing_silence_s,
          r.snr_db,
          r.error?.code ?? null,
          r.error?.detail ?? null,
          r.mtime_ns === null || r.mtime_ns === undefined ? null : BigInt(r.mtime_ns),
          r.sidecars ?? null,
          r.reused ? 1 : 0,
        );
      }
    });
    // `:memory:` has no maintenance thread (no second connection sees it): index on the spot.
    this.indexInline = sql.maintenance ? null : catalogIndexer(db);
  }

  private seq(taskId: string): number {
    const seq = this.sql.seqOf(taskId);
    if (seq === null) throw new Error(`unknown task ${taskId}`);
    return seq;
  }

  private statement(cache: Map<string | number, Database.Statement>, key: string | number, sql: () => string): Database.Statement {
    let st = cache.get(key);
    if (!st) {
      if (cache.size > 200) cache.clear();
      cache.set(key, (st = this.sql.db.prepare(sql())));
    }
    return st;
  }

  private async catchUp(): Promise<void> {
    if (this.indexInline) this.indexInline();
    else await this.sql.maintenance!.catchUp();
  }

  async insertResults(taskId: string, rows: RecordedFile[]): Promise<void> {
    const seq = this.seq(taskId);
    if (!rows.length) return;
    write(() => this.insertMany(seq, rows));
    this.sql.maintenance?.nudge();
  }

  async page(taskId: string, q: ResultsQuery): Promise<ResultPage> {
    const seq = this.sql.seqOf(taskId);
    if (seq === null) return { rows: [], next: null };
    const plain = q.sort.key === 'path' && isPlain(q.filter);
    if (!plain) await this.catchUp();
    const cond = filterCondition(DIALECT, 'task', seq, q.filter);
    const col = DIALECT.column(q.sort.key);
    const queries = pageQueries(DIALECT, plain ? COLS.join(', ') : `rid, path, ${col} AS sv`, plain ? 'results' : 'catalog', cond, { ...q, limit: q.limit + 1 });
    const found: { rid?: number; path: string; sv?: number | string | null }[] = [];
    for (const query of queries) {
      if (found.length > q.limit) break;
      const st = this.statement(this.queries, query.sql, () => query.sql);
      found.push(...(st.all(...query.params.slice(0, -1), q.limit + 1 - found.length) as { rid?: number; path: string; sv?: number | string | null }[]));
    }
    const more = found.length > q.limit;
    const kept = found.slice(0, q.limit);
    const rows = plain ? (kept as unknown as ResultRecord[]).map(fromRecord) : this.byRid(kept.map((k) => k.rid!));
    const last = kept[kept.length - 1];
    const next: ResultCursor | null = more && last ? { value: q.sort.key === 'path' ? null : (last.sv ?? null), path: last.path } : null;
    return { rows, next };
  }

  /** Full rows in the order of `rids`. */
  private byRid(rids: number[]): FileResult[] {
    if (!rids.length) return [];
    const st = this.statement(this.byRids, rids.length, () => `SELECT rid, ${COLS.join(', ')} FROM results WHERE rid IN (${rids.map(() => '?').join(', ')})`);
    const map = new Map((st.all(...rids) as (ResultRecord & { rid: number })[]).map((r) => [r.rid, fromRecord(r)]));
    return rids.map((rid) => map.get(rid)!).filter(Boolean);
  }

  async count(taskId: string, filter: ResultFilter): Promise<number> {
    const seq = this.sql.seqOf(taskId);
    if (seq === null) return 0;
    const plain = isPlain(filter);
    if (!plain) await this.catchUp();
    const cond = filterCondition(DIALECT, 'task', seq, filter);
    const sql = `SELECT COUNT(*) AS n FROM ${plain ? 'results' : 'catalog'} WHERE ${cond.sql}`;
    return (this.statement(this.queries, sql, () => sql).get(...cond.params) as { n: number }).n;
  }

  async resultsByPaths(taskId: string, paths: string[]): Promise<RecordedFile[]> {
    const seq = this.sql.seqOf(taskId);
    if (seq === null || paths.length === 0) return [];
    const out: RecordedFile[] = [];
    for (let i = 0; i < paths.length; i += PATHS_PER_QUERY) {
      const chunk = paths.slice(i, i + PATHS_PER_QUERY);
      const st = this.statement(this.byPaths, chunk.length, () => `SELECT ${COLS.join(', ')}, reused FROM results WHERE task = ? AND path IN (${chunk.map(() => '?').join(', ')})`);
      for (const r of st.all(seq, ...chunk) as (ResultRecord & { reused: number })[]) out.push({ ...fromRecord(r), reused: r.reused === 1 });
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
    const out = new Map<string, RecordedPrint>();
    if (seq === null || paths.length === 0) return out;
    for (let i = 0; i < paths.length; i += PATHS_PER_QUERY) {
      const chunk = paths.slice(i, i + PATHS_PER_QUERY);
      let st = this.printsByPaths.get(chunk.length);
      if (!st) {
        // safeIntegers: an mtime in nanoseconds is past 2^53, exact only as a BigInt.
        const sql = `SELECT path, bytes, mtime_ns, sidecars FROM results WHERE task = ? AND path IN (${chunk.map(() => '?').join(', ')}) AND mtime_ns IS NOT NULL AND sidecars IS NOT NULL`;
        this.printsByPaths.set(chunk.length, (st = this.sql.db.prepare(sql).safeIntegers(true)));
      }
      for (const r of st.all(seq, ...chunk) as { path: string; bytes: bigint | null; mtime_ns: bigint; sidecars: string }[]) {
        if (r.bytes !== null) out.set(r.path, { bytes: Number(r.bytes), mtime_ns: String(r.mtime_ns), sidecars: r.sidecars });
      }
    }
    return out;
  }

  async copyResults(from: string, to: string, paths: string[], headerOnly: boolean): Promise<FileResult[]> {
    const src = this.sql.seqOf(from);
    const dst = this.seq(to);
    if (src === null || paths.length === 0) return [];
    const copied: FileResult[] = [];
    for (let i = 0; i < paths.length; i += PATHS_PER_QUERY) {
      const chunk = paths.slice(i, i + PATHS_PER_QUERY);
      const st = this.statement(this.copies, `${headerOnly}:${chunk.length}`, () => {
        const select = COPIED.map((c) => (headerOnly && (SIGNAL_FIELDS as readonly string[]).includes(c) ? 'NULL' : c)).join(', ');
        return (
          `INSERT INTO results (task, ${COPIED.join(', ')}, reused) SELECT ?, ${select}, 1 FROM results ` +
          `WHERE task = ? AND path IN (${chunk.map(() => '?').join(', ')}) ON CONFLICT (task, path) DO NOTHING RETURNING ${COLS.join(', ')}`
        );
      });
      const rows = write(() => st.all(dst, src, ...chunk)) as ResultRecord[];
      for (const r of rows) copied.push(fromRecord(r));
    }
    this.sql.maintenance?.nudge();
    return copied;
  }

  async replaceSpeakers(taskId: string, rows: SpeakerRow[]): Promise<void> {
    write(() =>
      this.sql.db.transaction(() => {
        this.stmt.deleteSpeakers.run(taskId);
        for (const r of rows)
          this.stmt.insertSpeaker.run(taskId, r.speaker_id, r.name, r.gender, JSON.stringify(r.subsets), r.utterances, r.failed, r.duration_s, r.median_snr_db, r.reference_clip);
      })(),
    );
  }

  async speakers(taskId: string): Promise<SpeakerRow[]> {
    return (this.stmt.speakers.all(taskId) as (Omit<SpeakerRow, 'subsets'> & { subsets: string })[]).map((r) => ({ ...r, subsets: JSON.parse(r.subsets) as string[] }));
  }

  async speaker(taskId: string, speakerId: string): Promise<SpeakerRow | null> {
    const r = this.stmt.speaker.get(taskId, speakerId) as (Omit<SpeakerRow, 'subsets'> & { subsets: string }) | undefined;
    return r ? { ...r, subsets: JSON.parse(r.subsets) as string[] } : null;
  }
}
