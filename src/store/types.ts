import type { FileResult } from '../scan/types.ts';
import type { TaskEvent, TaskSnapshot, TaskStatus } from '../tasks/types.ts';

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
  insertTask(task: StoredTask, firstEvent?: TaskEvent): Promise<void>;
  /** Saves the latest snapshot and event id; called before the event is emitted. */
  saveTask(task: StoredTask): Promise<void>;
  getTask(id: string): Promise<StoredTask | null>;
  listTasks(opts: { status?: TaskStatus | undefined; limit: number }): Promise<TaskSnapshot[]>;
  /** Queued and running tasks, oldest first: what to resume after a restart. */
  unfinishedTasks(): Promise<StoredTask[]>;
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
