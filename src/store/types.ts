import type { Analysis, FileResult, RecordedFile, SummaryRow } from '../domain/file-result.ts';

export type { RecordedFile };
import type { ReuseMode, ReuseReference, TaskEvent, TaskEventType, TaskSnapshot, TaskStatus } from '../domain/task.ts';
import type { ResultCursor, ResultFilter, ResultSort } from './result-query.ts';

/**
 * The store, split by concern: tasks, their event log, their results. Each mode has one
 * implementation of each (SQLite in one process, PostgreSQL in a cluster); the routes, the
 * queue and the executor see only these interfaces, and one contract suite tests both.
 * Every method is async so that a networked engine can stand behind it.
 */

/** A per-speaker summary row (`scan-speakers`). */
export interface SpeakerRow {
  speaker_id: string;
  name: string | null;
  gender: string | null;
  subsets: string[];
  utterances: number;
  failed: number;
  duration_s: number;
  /** Median snr_db of the speaker's good clips (full analysis), else null. */
  median_snr_db: number | null;
  /** The path of the speaker's best reference clip by the default rules, or null. */
  reference_clip: string | null;
}

export interface StoredTask {
  snapshot: TaskSnapshot;
  /** The id of the last event emitted for the task (0 before any). */
  last_event_id: number;
}

/** A task with what only the service needs: its resolved root and a pending cancel. */
export interface TaskRecord extends StoredTask {
  /** The real path resolved when the request was accepted: what the scan reads. */
  root: string;
  /** A cancel was accepted but the task had not stopped yet (it must survive a restart). */
  cancel_requested: boolean;
  /** Whether the scan may copy unchanged files' rows from an earlier one (API.md `reuse`). */
  reuse: ReuseMode;
}

/** What a new task is recorded with. */
export interface NewTask {
  snapshot: TaskSnapshot;
  root: string;
  reuse: ReuseMode;
  /** scan/version.ts: a later rescan reuses only rows of the same version. */
  scannerVersion: number;
}

/** Which earlier scan a rescan may reuse: of the same root, completed, same scanner version, at least as rich an analysis. */
export interface ReferenceQuery {
  root: string;
  analysis: Analysis;
  scannerVersion: number;
  /** The rescan itself. */
  excludeId: string;
}

export interface TaskStore {
  /**
   * Records a new task and its first event in one write. With `maxQueued`, refuses (returns
   * false, writing nothing) when that many tasks are already queued, atomically with the insert.
   */
  insertTask(task: NewTask, first: TaskEvent, maxQueued?: number): Promise<boolean>;
  /** The latest completed task that matches (the newest by admission order), or null. */
  findReference(q: ReferenceQuery): Promise<ReuseReference | null>;
  getTask(id: string): Promise<StoredTask | null>;
  getRecord(id: string): Promise<TaskRecord | null>;
  listTasks(opts: { status?: TaskStatus | undefined; limit: number }): Promise<TaskSnapshot[]>;
  /** Queued and running tasks, oldest first: what to resume after a restart. */
  unfinishedTasks(): Promise<TaskRecord[]>;
  /** How many tasks are in each status (queue depth, metrics). */
  countByStatus(): Promise<Record<TaskStatus, number>>;
  /** Records that a cancel was accepted, so that a restart does not run the task on. */
  requestCancel(id: string): Promise<void>;
  /** Deletes a task and everything recorded for it. */
  deleteTask(id: string): Promise<void>;
}

export interface AppendOptions {
  /** Keep the event in the log (phase changes and the end); progress only updates the snapshot. */
  record: boolean;
  /** Write only while the task is in one of these statuses (e.g. cancel only what is still queued). */
  onlyIf?: readonly TaskStatus[];
  /**
   * The highest id the writer has handed out, an event the store refused included (published
   * unstored so that clients still see the end): the event gets an id above it. Without it, the
   * next stored event took the refused one's id, and streams that had seen that id dropped it —
   * the end itself, when it came next.
   */
  after?: number;
}

export interface EventLog {
  /**
   * Saves `snapshot` as the task's latest under the next event id, and keeps the event in the
   * log when `record`, in one write. Nothing is written once the task has ended (its terminal
   * event stays the last), nor when `onlyIf` does not hold: then the answer is null.
   */
  append(taskId: string, type: TaskEventType, snapshot: TaskSnapshot, opts: AppendOptions): Promise<TaskEvent | null>;
  /** The task's terminal event, if it has ended. */
  terminalEvent(taskId: string): Promise<TaskEvent | null>;
  /** Recorded events after `afterId`, oldest first. */
  eventsAfter(taskId: string, afterId: number, limit: number): Promise<TaskEvent[]>;
}

export interface ResultsQuery {
  filter: ResultFilter;
  sort: ResultSort;
  /** Where the previous page ended. */
  after?: ResultCursor | undefined;
  limit: number;
  /** How many rows match, when the caller knows: a store may pick its plan by it. */
  total?: number | undefined;
}

export interface ResultPage {
  rows: FileResult[];
  /** Where this page ended, when more rows follow; null on the last page. */
  next: ResultCursor | null;
}

export interface ResultCounts {
  done: number;
  failed: number;
  /** Bytes of the files read (reused rows count nothing here). */
  bytes: number;
  reused: number;
}

/** What a recorded row says of its file, for a rescan to compare (a row read cleanly only). */
export interface RecordedPrint {
  bytes: number;
  mtime_ns: string;
  /** JSON: the transcript files consulted, by name, "size:mtime_ns" or "-". */
  sidecars: string;
}

/**
 * A database a scan thread can open to record a task's rows itself (SQLite: its file, the task's
 * key, and the process's write gate, shared memory: sqlite/write-gate.ts).
 */
export interface RowTarget {
  db: string;
  task: number;
  gate: SharedArrayBuffer;
  /**
   * A rescan's reference scan (its key), whose rows of unchanged files the scan thread copies
   * itself; `headerOnly`: the signal fields are left null (a header scan reusing a full one).
   */
  reuse?: { from: number; headerOnly: boolean };
}

/** The scan a rescan copies rows from, as threadWrites is told of it. */
export interface ReuseSource {
  taskId: string;
  headerOnly: boolean;
}

export interface ResultStore {
  /** Records results in one write; a path recorded before keeps its row (retries are idempotent). */
  insertResults(taskId: string, rows: RecordedFile[]): Promise<void>;
  /**
   * Where scan threads may record this task's rows themselves (row-writer.ts), with the same
   * rules as insertResults; null when rows must come back to insertResults (a database no other
   * connection can open, or a store across the network). With `reuse`, the target also names the
   * reference scan, and the scan threads copy its rows of unchanged files themselves (no `reuse`
   * in the target when that scan is gone: then copyResults' own lookup decides).
   */
  threadWrites(taskId: string, reuse?: ReuseSource | null): RowTarget | null;
  /** One page of the rows that match a filter, in a sort order (result-query.ts). */
  page(taskId: string, query: ResultsQuery): Promise<ResultPage>;
  /** How many rows match a filter. */
  count(taskId: string, filter: ResultFilter): Promise<number>;
  /** The recorded rows among `paths` (any order), each saying whether it was reused. */
  resultsByPaths(taskId: string, paths: string[]): Promise<RecordedFile[]>;
  /** The fingerprints of the rows among `paths` that a rescan may reuse (read cleanly, not through a link). */
  fingerprints(taskId: string, paths: string[]): Promise<Map<string, RecordedPrint>>;
  /**
   * Copies the rows of task `from` at `paths` into task `to`, marked reused, in bulk inside the
   * store; `headerOnly` leaves the signal fields null (a header scan reusing a full one). A path
   * `to` has already is left as it is. Resolves with the rows copied: those `from` still had.
   */
  copyResults(from: string, to: string, paths: string[], headerOnly: boolean): Promise<SummaryRow[]>;
  resultCounts(taskId: string): Promise<ResultCounts>;
  /**
   * Deletes the task's rows at `paths`, with what indexes them: the rows of files a resumed scan
   * no longer finds (scan-part.ts). Paths without a row are ignored.
   */
  deleteResults(taskId: string, paths: string[]): Promise<void>;
  /**
   * A page of the task's recorded paths in byte order: after `after`, within [`from`, `to`) when
   * given (a folder's rows: [`d/`, `d0`)). Paths only, by the (task, path) index.
   */
  recordedPaths(taskId: string, page: { from?: string | undefined; to?: string | undefined; after?: string | undefined; limit: number }): Promise<string[]>;
  replaceSpeakers(taskId: string, rows: SpeakerRow[]): Promise<void>;
  speakers(taskId: string): Promise<SpeakerRow[]>;
  speaker(taskId: string, speakerId: string): Promise<SpeakerRow | null>;
}

/** The three stores of one engine, and how to let go of it. */
export interface Stores {
  tasks: TaskStore;
  events: EventLog;
  results: ResultStore;
  close(): Promise<void>;
}

/** Store-neutral errors: the layers above never look at an engine's own codes. */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
}

/** The disk (or the database's size limit) is full; what was written before stays. */
export class StorageFullError extends Error {
  override readonly name = 'StorageFullError';
}

/** The store cannot be reached (PostgreSQL down, connection refused); worth retrying later. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

export type { TaskEvent, TaskEventType };
