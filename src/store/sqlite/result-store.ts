import type Database from 'better-sqlite3';
import { RESULT_COLUMNS, type FileErrorCode, type FileResult } from '../../domain/file-result.ts';
import type { ResultCounts, ResultsQuery, ResultStore, SpeakerRow } from '../types.ts';
import { write, type SqliteDatabase } from './database.ts';

type ResultRecord = Omit<FileResult, 'error'> & { error_code: string | null; error_detail: string | null };

const COLS = [...RESULT_COLUMNS, 'error_code', 'error_detail'];
/** SQLite's default limit on bound parameters is 32766; path lookups go in chunks well below it. */
const PATHS_PER_QUERY = 500;

function fromRecord(rec: ResultRecord): FileResult {
  const out = {} as Record<string, unknown>;
  for (const k of RESULT_COLUMNS) out[k] = rec[k];
  out.error = rec.error_code ? { code: rec.error_code as FileErrorCode, detail: rec.error_detail ?? '' } : null;
  return out as FileResult;
}

/** Results and speakers in SQLite: statements prepared once, many rows per transaction. */
export class SqliteResultStore implements ResultStore {
  private readonly stmt;
  private readonly insertMany: (task: number, rows: FileResult[]) => void;
  private readonly byPaths = new Map<number, Database.Statement>();

  constructor(private readonly sql: SqliteDatabase) {
    const db = sql.db;
    this.stmt = {
      // Positional parameters: binding by name costs about twice as much per row.
      insert: db.prepare(`INSERT OR REPLACE INTO results (task, ${COLS.join(', ')}) VALUES (?, ${COLS.map(() => '?').join(', ')})`),
      page: db.prepare(
        `SELECT ${COLS.join(', ')} FROM results WHERE task = @task AND path > @after
         AND (@only IS NULL OR (@only = 'failed' AND error_code IS NOT NULL) OR (@only = 'ok' AND error_code IS NULL))
         ORDER BY path LIMIT @limit`,
      ),
      counts: db.prepare('SELECT COUNT(*) AS done, COALESCE(SUM(error_code IS NOT NULL), 0) AS failed, COALESCE(SUM(bytes), 0) AS bytes FROM results WHERE task = ?'),
      deleteSpeakers: db.prepare('DELETE FROM speakers WHERE task_id = ?'),
      insertSpeaker: db.prepare('INSERT INTO speakers (task_id, speaker_id, name, gender, subsets, utterances, failed, duration_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      speakers: db.prepare('SELECT speaker_id, name, gender, subsets, utterances, failed, duration_s FROM speakers WHERE task_id = ? ORDER BY CAST(speaker_id AS INTEGER), speaker_id'),
    };
    const insert = this.stmt.insert;
    this.insertMany = db.transaction((task: number, rows: FileResult[]) => {
      for (const r of rows) {
        insert.run(
          task, r.path, r.subset, r.speaker_id, r.chapter_id, r.utterance_id, r.text_normalized, r.text_original,
          r.sample_rate, r.channels, r.bits_per_sample, r.encoding, r.frames, r.duration_s, r.bytes,
          r.peak_dbfs, r.rms_dbfs, r.clipped_samples, r.dc_offset, r.leading_silence_s, r.trailing_silence_s,
          r.error?.code ?? null, r.error?.detail ?? null,
        );
      }
    });
  }

  private seq(taskId: string): number {
    const seq = this.sql.seqOf(taskId);
    if (seq === null) throw new Error(`unknown task ${taskId}`);
    return seq;
  }

  async insertResults(taskId: string, rows: FileResult[]): Promise<void> {
    const seq = this.seq(taskId);
    if (rows.length) write(() => this.insertMany(seq, rows));
  }

  async results(taskId: string, q: ResultsQuery): Promise<FileResult[]> {
    const seq = this.sql.seqOf(taskId);
    if (seq === null) return [];
    return (this.stmt.page.all({ task: seq, after: q.after ?? '', only: q.only ?? null, limit: q.limit }) as ResultRecord[]).map(fromRecord);
  }

  async resultsByPaths(taskId: string, paths: string[]): Promise<FileResult[]> {
    const seq = this.sql.seqOf(taskId);
    if (seq === null || paths.length === 0) return [];
    const out: FileResult[] = [];
    for (let i = 0; i < paths.length; i += PATHS_PER_QUERY) {
      const chunk = paths.slice(i, i + PATHS_PER_QUERY);
      let st = this.byPaths.get(chunk.length);
      if (!st) {
        st = this.sql.db.prepare(`SELECT ${COLS.join(', ')} FROM results WHERE task = ? AND path IN (${chunk.map(() => '?').join(', ')})`);
        if (this.byPaths.size > 64) this.byPaths.clear();
        this.byPaths.set(chunk.length, st);
      }
      for (const r of st.all([seq, ...chunk]) as ResultRecord[]) out.push(fromRecord(r));
    }
    return out;
  }

  async resultCounts(taskId: string): Promise<ResultCounts> {
    const seq = this.sql.seqOf(taskId);
    if (seq === null) return { done: 0, failed: 0, bytes: 0 };
    return this.stmt.counts.get(seq) as ResultCounts;
  }

  async replaceSpeakers(taskId: string, rows: SpeakerRow[]): Promise<void> {
    write(() =>
      this.sql.db.transaction(() => {
        this.stmt.deleteSpeakers.run(taskId);
        for (const r of rows) this.stmt.insertSpeaker.run(taskId, r.speaker_id, r.name, r.gender, JSON.stringify(r.subsets), r.utterances, r.failed, r.duration_s);
      })(),
    );
  }

  async speakers(taskId: string): Promise<SpeakerRow[]> {
    return (this.stmt.speakers.all(taskId) as (Omit<SpeakerRow, 'subsets'> & { subsets: string })[]).map((r) => ({ ...r, subsets: JSON.parse(r.subsets) as string[] }));
  }
}
