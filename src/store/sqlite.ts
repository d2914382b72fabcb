import fs from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { RESULT_COLUMNS, type FileResult } from '../domain/file-result.ts';
import type { FileErrorCode } from '../domain/file-result.ts';
import type { TaskEvent, TaskSnapshot, TaskStatus } from '../domain/task.ts';
import { Checkpointer } from './checkpointer.ts';
import { MIGRATIONS } from './schema.ts';
import { StoreOpenError, type ResultCounts, type ResultsQuery, type SpeakerRow, type StoredTask, type TaskRecord, type TaskStore } from './types.ts';
import { parseStoredSnapshot } from './snapshot-codec.ts';

type ResultRecord = Omit<FileResult, 'error'> & { error_code: string | null; error_detail: string | null };

const DELETE_CHUNK = 5000;

function fromRecord(rec: ResultRecord): FileResult {
  const { error_code, error_detail, ...rest } = rec;
  const out = {} as FileResult;
  for (const k of RESULT_COLUMNS) (out as unknown as Record<string, unknown>)[k] = rest[k];
  out.error = error_code ? { code: error_code as FileErrorCode, detail: error_detail ?? '' } : null;
  return out;
}

interface TaskRow {
  id: string;
  status: string;
  created_at: string;
  snapshot: string;
  last_event_id: number;
}

/** Opens (creating if needed) and migrates the database; a file that cannot serve is a StoreOpenError. */
function openDatabase(file: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a crash of the process loses nothing; only a power loss may drop the last commits.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    const version = db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < MIGRATIONS.length; v++) {
      const sql = MIGRATIONS[v]!;
      db.transaction(() => {
        db!.exec(sql);
        db!.pragma(`user_version = ${v + 1}`);
      })();
    }
    return db;
  } catch (err) {
    if (db?.open) db.close();
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'SQLITE_NOTADB'
        ? 'the file is not an SQLite database'
        : e.code === 'SQLITE_CANTOPEN'
          ? 'cannot open it (a directory, or a folder that cannot be created?)'
          : e.code === 'SQLITE_READONLY' || e.code === 'EACCES' || e.code === 'EROFS'
            ? 'it is read-only'
            : (e.message ?? String(err));
    throw new StoreOpenError(`Cannot use DB_PATH=${file}: ${why}`);
  }
}

/**
 * The single-process store: one SQLite file in WAL mode, statements prepared once, many rows
 * per transaction. Calls are synchronous underneath (better-sqlite3) and short; bulk deletes
 * are chunked so that they do not stall the event loop.
 */
export class SqliteStore implements TaskStore {
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly insertMany: (task: number, rows: FileResult[]) => void;
  private readonly seqs = new Map<string, number>();
  private seq: number;
  private readonly checkpointer: Checkpointer | null = null;

  constructor(file: string) {
    this.db = openDatabase(file);
    if (file !== ':memory:') {
      // Checkpoints run in a background thread (checkpointer.ts), not inside a request's commit.
      this.db.pragma('wal_autocheckpoint = 0');
      this.checkpointer = new Checkpointer(file);
    }
    const db = this.db;
    const cols = [...RESULT_COLUMNS, 'error_code', 'error_detail'];
    this.stmt = {
      insertTask: db.prepare(
        'INSERT INTO tasks (id, seq, status, created_at, last_event_id, snapshot, root) VALUES (@id, @seq, @status, @created_at, @last_event_id, @snapshot, @root)',
      ),
      requestCancel: db.prepare('UPDATE tasks SET cancel_requested = 1 WHERE id = ?'),
      saveTask: db.prepare('UPDATE tasks SET status = @status, last_event_id = @last_event_id, snapshot = @snapshot WHERE id = @id'),
      getTask: db.prepare('SELECT id, status, created_at, snapshot, last_event_id FROM tasks WHERE id = ?'),
      listAll: db.prepare('SELECT id, status, created_at, snapshot FROM tasks ORDER BY seq DESC LIMIT ?'),
      listByStatus: db.prepare('SELECT id, status, created_at, snapshot FROM tasks WHERE status = ? ORDER BY seq DESC LIMIT ?'),
      unfinished: db.prepare(
        "SELECT id, status, created_at, snapshot, last_event_id, root, cancel_requested FROM tasks WHERE status IN ('queued', 'running') ORDER BY seq",
      ),
      maxSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM tasks'),
      deleteTask: db.prepare('DELETE FROM tasks WHERE id = ?'),
      deleteEvents: db.prepare('DELETE FROM events WHERE task_id = ?'),
      deleteSpeakers: db.prepare('DELETE FROM speakers WHERE task_id = ?'),
      deleteResultsChunk: db.prepare(`DELETE FROM results WHERE task = ? AND path IN (SELECT path FROM results WHERE task = ? LIMIT ${DELETE_CHUNK})`),
      taskSeq: db.prepare('SELECT seq FROM tasks WHERE id = ?'),
      appendEvent: db.prepare('INSERT OR REPLACE INTO events (task_id, id, type, created_at, snapshot) VALUES (?, ?, ?, ?, ?)'),
      terminalEvent: db.prepare(
        "SELECT id, type, snapshot FROM events WHERE task_id = ? AND type IN ('completed', 'failed', 'cancelled') ORDER BY id DESC LIMIT 1",
      ),
      // Positional parameters: binding by name costs about twice as much per row.
      insertResult: db.prepare(`INSERT OR REPLACE INTO results (task, ${cols.join(', ')}) VALUES (?, ${cols.map(() => '?').join(', ')})`),
      results: db.prepare(
        `SELECT ${cols.join(', ')} FROM results WHERE task = @task AND path > @after
         AND (@only IS NULL OR (@only = 'failed' AND error_code IS NOT NULL) OR (@only = 'ok' AND error_code IS NULL))
         ORDER BY path LIMIT @limit`,
      ),
      counts: db.prepare(
        'SELECT COUNT(*) AS done, COALESCE(SUM(error_code IS NOT NULL), 0) AS failed, COALESCE(SUM(bytes), 0) AS bytes FROM results WHERE task = ?',
      ),
      insertSpeaker: db.prepare(
        'INSERT INTO speakers (task_id, speaker_id, name, gender, subsets, utterances, failed, duration_s) VALUES (@task_id, @speaker_id, @name, @gender, @subsets, @utterances, @failed, @duration_s)',
      ),
      speakers: db.prepare('SELECT speaker_id, name, gender, subsets, utterances, failed, duration_s FROM speakers WHERE task_id = ? ORDER BY CAST(speaker_id AS INTEGER), speaker_id'),
    };
    const insert = this.stmt.insertResult;
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
    this.seq = (this.stmt.maxSeq.get() as { seq: number }).seq;
  }

  /** The task's integer key in `results`; null for an unknown task. */
  private seqOf(id: string): number | null {
    let seq = this.seqs.get(id);
    if (seq === undefined) {
      seq = (this.stmt.taskSeq.get(id) as { seq: number } | undefined)?.seq;
      if (seq === undefined) return null;
      this.seqs.set(id, seq);
    }
    return seq;
  }

  async insertTask(task: StoredTask & { root: string }, firstEvent?: TaskEvent): Promise<void> {
    const s = task.snapshot;
    this.db.transaction(() => {
      const seq = this.seq + 1;
      this.stmt.insertTask.run({
        id: s.task_id,
        seq,
        status: s.status,
        created_at: s.created_at,
        last_event_id: task.last_event_id,
        snapshot: JSON.stringify(s),
        root: task.root,
      });
      if (firstEvent) this.stmt.appendEvent.run(s.task_id, firstEvent.id, firstEvent.type, new Date().toISOString(), JSON.stringify(firstEvent.snapshot));
      this.seq = seq;
      this.seqs.set(s.task_id, seq);
    })();
  }

  async saveTask(task: StoredTask): Promise<void> {
    const s = task.snapshot;
    this.stmt.saveTask.run({ id: s.task_id, status: s.status, last_event_id: task.last_event_id, snapshot: JSON.stringify(s) });
  }

  async getTask(id: string): Promise<StoredTask | null> {
    const row = this.stmt.getTask.get(id) as TaskRow | undefined;
    return row ? { snapshot: parseStoredSnapshot(row), last_event_id: row.last_event_id } : null;
  }

  async listTasks(opts: { status?: TaskStatus | undefined; limit: number }): Promise<TaskSnapshot[]> {
    const rows = (opts.status ? this.stmt.listByStatus.all(opts.status, opts.limit) : this.stmt.listAll.all(opts.limit)) as TaskRow[];
    return rows.map(parseStoredSnapshot);
  }

  async unfinishedTasks(): Promise<TaskRecord[]> {
    return (this.stmt.unfinished.all() as (TaskRow & { root: string | null; cancel_requested: number })[]).map((r) => ({
      snapshot: parseStoredSnapshot(r),
      last_event_id: r.last_event_id,
      root: r.root ?? '',
      cancel_requested: r.cancel_requested === 1,
    }));
  }

  async requestCancel(id: string): Promise<void> {
    this.stmt.requestCancel.run(id);
  }

  async deleteTask(id: string): Promise<void> {
    // Results first, in chunks with a yield between them, so a huge task does not stall the loop;
    // the task row goes last so that an interrupted delete leaves a task that can be deleted again.
    const seq = this.seqOf(id);
    if (seq !== null) while (this.stmt.deleteResultsChunk.run(seq, seq).changes > 0) await yieldToLoop();
    this.db.transaction(() => {
      this.stmt.deleteSpeakers.run(id);
      this.stmt.deleteEvents.run(id);
      this.stmt.deleteTask.run(id);
    })();
    this.seqs.delete(id);
  }

  async appendEvent(taskId: string, e: TaskEvent): Promise<void> {
    this.stmt.appendEvent.run(taskId, e.id, e.type, new Date().toISOString(), JSON.stringify(e.snapshot));
  }

  async terminalEvent(taskId: string): Promise<TaskEvent | null> {
    const row = this.stmt.terminalEvent.get(taskId) as { id: number; type: TaskEvent['type']; snapshot: string } | undefined;
    return row ? { id: row.id, type: row.type, snapshot: parseStoredSnapshot({ id: taskId, status: row.type, created_at: '', snapshot: row.snapshot }) } : null;
  }

  async insertResults(taskId: string, rows: FileResult[]): Promise<void> {
    const seq = this.seqOf(taskId);
    if (seq === null) throw new Error(`unknown task ${taskId}`);
    if (rows.length) this.insertMany(seq, rows);
  }

  async results(taskId: string, q: ResultsQuery): Promise<FileResult[]> {
    const seq = this.seqOf(taskId);
    if (seq === null) return [];
    const rows = this.stmt.results.all({ task: seq, after: q.after ?? '', only: q.only ?? null, limit: q.limit }) as ResultRecord[];
    return rows.map(fromRecord);
  }

  async resultCounts(taskId: string): Promise<ResultCounts> {
    const seq = this.seqOf(taskId);
    if (seq === null) return { done: 0, failed: 0, bytes: 0 };
    return this.stmt.counts.get(seq) as ResultCounts;
  }

  async replaceSpeakers(taskId: string, rows: SpeakerRow[]): Promise<void> {
    this.db.transaction(() => {
      this.stmt.deleteSpeakers.run(taskId);
      for (const r of rows) this.stmt.insertSpeaker.run({ task_id: taskId, ...r, subsets: JSON.stringify(r.subsets) });
    })();
  }

  async speakers(taskId: string): Promise<SpeakerRow[]> {
    return (this.stmt.speakers.all(taskId) as (Omit<SpeakerRow, 'subsets'> & { subsets: string })[]).map((r) => ({
      ...r,
      subsets: JSON.parse(r.subsets) as string[],
    }));
  }

  async close(): Promise<void> {
    await this.checkpointer?.close();
    if (this.db.open) this.db.close();
  }
}
