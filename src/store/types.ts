import type { FileResult } from '../domain/file-result.ts';
import type { TaskEvent, TaskSnapshot, TaskStatus } from '../domain/task.ts';

/** A per-speaker summary row (`scan-speakers`). */
export interface SpeakerRow {
  speaker_id: string;
  name: string | null;
  gender: string | null;
  subsets: string[];
  utterances: number;
  failed: number;
  duration_s: number;
}

export interface StoredTask {
  snapshot: TaskSnapshot;
  /** The id of the last event emitted for the task (0 before any). */
  last_event_id: number;
}

/** A task as recorded with what only the service needs: its resolved root and a pending cancel. */
export interface TaskRecord extends StoredTask {
  /** The real path resolved when the request was accepted: what the scan reads. */
  root: string;
  /** A cancel was accepted but the task had not stopped yet (it must survive a restart). */
  cancel_requested: boolean;
}

/** The store cannot be opened (not a database, a directory, read-only, …): a configuration problem. */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
}

export interface ResultsQuery {
  /** Return rows whose path sorts after this one. */
  after?: string | undefined;
  limit: number;
  only?: 'failed' | 'ok' | undefined;
}

export interface ResultCounts {
  done: number;
  failed: number;
  bytes: number;
}

/**
 * Where tasks, results, speakers and events persist. Async so that a networked engine
 * (PostgreSQL) can stand in for SQLite without touching the runner or the routes.
 */
export interface TaskStore {
  /** Records a new task, with its first event in the same write when given. */
  insertTask(task: StoredTask & { root: string }, firstEvent?: TaskEvent): Promise<void>;
  /** Saves the latest snapshot and event id; called before the event is emitted. */
  saveTask(task: StoredTask): Promise<void>;
  getTask(id: string): Promise<StoredTask | null>;
  listTasks(opts: { status?: TaskStatus | undefined; limit: number }): Promise<TaskSnapshot[]>;
  /** Queued and running tasks, oldest first: what to resume after a restart. */
  unfinishedTasks(): Promise<TaskRecord[]>;
  /** Records that a cancel was accepted, so that a restart does not run the task on. */
  requestCancel(id: string): Promise<void>;
  /** Deletes a task and everything recorded for it. */
  deleteTask(id: string): Promise<void>;

  appendEvent(taskId: string, event: TaskEvent): Promise<void>;
  /** The task's terminal event, if it has ended. */
  terminalEvent(taskId: string): Promise<TaskEvent | null>;

  /** Records results in one transaction; a path recorded before is replaced. */
  insertResults(taskId: string, rows: FileResult[]): Promise<void>;
  results(taskId: string, query: ResultsQuery): Promise<FileResult[]>;
  resultCounts(taskId: string): Promise<ResultCounts>;

  replaceSpeakers(taskId: string, rows: SpeakerRow[]): Promise<void>;
  speakers(taskId: string): Promise<SpeakerRow[]>;

  close(): Promise<void>;
}
