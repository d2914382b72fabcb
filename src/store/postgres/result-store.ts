import { RESULT_COLUMNS, type FileErrorCode, type FileResult } from '../../domain/file-result.ts';
import type { ResultCounts, ResultsQuery, ResultStore, SpeakerRow } from '../types.ts';
import type { Pg } from './connection.ts';

type ResultRecord = Omit<FileResult, 'error'> & { error_code: string | null; error_detail: string | null };

const COLS = [...RESULT_COLUMNS, 'error_code', 'error_detail'] as const;
/** The SQL type of each column's array in the UNNEST upsert. */
const TYPES: Record<(typeof COLS)[number], string> = {
  path: 'text', subset: 'text', speaker_id: 'text', chapter_id: 'text', utterance_id: 'text', text_normalized: 'text', text_original: 'text',
  sample_rate: 'int4', channels: 'int4', bits_per_sample: 'int4', encoding: 'text', frames: 'int8', duration_s: 'float8', bytes: 'int8',
  peak_dbfs: 'float8', rms_dbfs: 'float8', clipped_samples: 'int8', dc_offset: 'float8', leading_silence_s: 'float8', trailing_silence_s: 'float8',
  error_code: 'text', error_detail: 'text',
};

/**
 * One statement per batch, one array parameter per column (the 65,535-parameter cap never
 * applies), and ON CONFLICT: a part retried after a crash rewrites its rows instead of
 * duplicating them.
 */
const UPSERT = `INSERT INTO results (task_id, ${COLS.join(', ')})
  SELECT * FROM UNNEST($1::uuid[], ${COLS.map((c, i) => `$${i + 2}::${TYPES[c]}[]`).join(', ')})
  ON CONFLICT (task_id, path) DO UPDATE SET ${COLS.filter((c) => c !== 'path')
    .map((c) => `${c} = EXCLUDED.${c}`)
    .join(', ')}`;

const SELECT = COLS.join(', ');

function fromRecord(rec: ResultRecord): FileResult {
  const out = {} as Record<string, unknown>;
  for (const k of RESULT_COLUMNS) out[k] = rec[k];
  out.error = rec.error_code ? { code: rec.error_code as FileErrorCode, detail: rec.error_detail ?? '' } : null;
  return out as FileResult;
}

/** Rows of one upsert at most: larger groups are split (statement size, lock time). */
const MAX_GROUP_ROWS = 4096;

interface Waiting {
  taskId: string;
  rows: FileResult[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Results and speakers in PostgreSQL: batched idempotent upserts, pages in byte order of path. */
export class PgResultStore implements ResultStore {
  private waiting: Waiting[] = [];
  private writing = false;

  constructor(private readonly db: Pg) {}

  /**
   * Group commit: batches that arrive while an upsert is in flight wait for it and then go
   * together, in one statement, whatever their task. Each call resolves once its rows are
   * committed. Measured with 16-row batches (full analysis): 21 µs of Node and 31 µs of
   * PostgreSQL CPU per row one statement per batch, 6 and 16 µs in statements of ~500 rows.
   */
  insertResults(taskId: string, rows: FileResult[]): Promise<void> {
    if (!rows.length) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiting.push({ taskId, rows, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.waiting.length) {
      const group: Waiting[] = [];
      let n = 0;
      while (this.waiting.length && (n === 0 || n + this.waiting[0]!.rows.length <= MAX_GROUP_ROWS)) {
        const w = this.waiting.shift()!;
        group.push(w);
        n += w.rows.length;
      }
      try {
        await this.upsert(group);
        for (const w of group) w.resolve();
      } catch (err) {
        for (const w of group) w.reject(err);
      }
    }
    this.writing = false;
  }

  private async upsert(group: Waiting[]): Promise<void> {
    // One statement may not touch a row twice (ON CONFLICT): the same file sent twice in a
    // group (a part run twice at once, after a hand-over) keeps its last version, as it would
    // in two statements.
    const byKey = new Map<string, [string, FileResult]>();
    for (const w of group) for (const r of w.rows) byKey.set(`${w.taskId}\0${r.path}`, [w.taskId, r]);
    const taskIds: string[] = [];
    const rows: FileResult[] = [];
    for (const [taskId, r] of byKey.values()) {
      taskIds.push(taskId);
      rows.push(r);
    }
    const columns = COLS.map((c) => rows.map((r) => (c === 'error_code' ? (r.error?.code ?? null) : c === 'error_detail' ? (r.error?.detail ?? null) : r[c])));
    await this.db.query(UPSERT, [taskIds, ...columns]);
  }

  async results(taskId: string, q: ResultsQuery): Promise<FileResult[]> {
    const only = q.only === 'failed' ? 'AND error_code IS NOT NULL' : q.only === 'ok' ? 'AND error_code IS NULL' : '';
    const { rows } = await this.db.query<ResultRecord>(`SELECT ${SELECT} FROM results WHERE task_id = $1 AND path > $2 ${only} ORDER BY path LIMIT $3`, [taskId, q.after ?? '', q.limit]);
    return rows.map(fromRecord);
  }

  async resultsByPaths(taskId: string, paths: string[]): Promise<FileResult[]> {
    if (!paths.length) return [];
    const { rows } = await this.db.query<ResultRecord>(`SELECT ${SELECT} FROM results WHERE task_id = $1 AND path = ANY ($2::text[])`, [taskId, paths]);
    return rows.map(fromRecord);
  }

  async resultCounts(taskId: string): Promise<ResultCounts> {
    const { rows } = await this.db.query<ResultCounts>(
      'SELECT COUNT(*) AS done, COUNT(error_code) AS failed, COALESCE(SUM(bytes), 0)::int8 AS bytes FROM results WHERE task_id = $1',
      [taskId],
    );
    return rows[0]!;
  }

  async replaceSpeakers(taskId: string, rows: SpeakerRow[]): Promise<void> {
    await this.db.tx(async (c) => {
      await c.query('DELETE FROM speakers WHERE task_id = $1', [taskId]);
      if (!rows.length) return;
      await c.query(
        `INSERT INTO speakers (task_id, speaker_id, name, gender, subsets, utterances, failed, duration_s)
         SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::int4[], $7::int4[], $8::float8[])`,
        [
          taskId,
          rows.map((r) => r.speaker_id),
          rows.map((r) => r.name),
          rows.map((r) => r.gender),
          rows.map((r) => JSON.stringify(r.subsets)),
          rows.map((r) => r.utterances),
          rows.map((r) => r.failed),
          rows.map((r) => r.duration_s),
        ],
      );
    });
  }

  async speakers(taskId: string): Promise<SpeakerRow[]> {
    // Numeric ids in numeric order, then the rest by text: the same order as SQLite's CAST.
    const { rows } = await this.db.query<Omit<SpeakerRow, 'subsets'> & { subsets: string }>(
      `SELECT speaker_id, name, gender, subsets, utterances, failed, duration_s FROM speakers WHERE task_id = $1
       ORDER BY CASE WHEN speaker_id ~ '^[0-9]{1,18}$' THEN speaker_id::bigint ELSE 0 END, speaker_id COLLATE "C"`,
      [taskId],
    );
    return rows.map((r) => ({ ...r, subsets: JSON.parse(r.subsets) as string[] }));
  }
}
