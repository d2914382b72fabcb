import type { Analysis } from '../domain/file-result.ts';
import type { ReuseReference, ScanRequest, TaskEvent, TaskSnapshot, TaskStatus } from '../domain/task.ts';
import type { PartSpec } from '../scan/plan.ts';
import type { PartProgress } from '../scan/scan-part.ts';
import type { ScanAggregator } from '../scan/summary.ts';
import type { StoredTask } from '../store/types.ts';

/**
 * The seams between the routes and the machinery behind them. The single process implements
 * them in memory over SQLite (local-*.ts); a cluster over BullMQ, Redis and PostgreSQL
 * (src/cluster/). Routes depend on these and nothing else.
 */

/** Admits tasks under the limits, cancels them, hands them to executors. */
export interface TaskQueue {
  /** Records a new queued task; throws QueueFullError (429), ShuttingDownError or an unavailable error (503). */
  submit(req: ScanRequest): Promise<TaskSnapshot>;
  /**
   * Accepts a cancel: a queued task ends at once, a running one is told to stop on every worker.
   * Resolves when the request is recorded, not when the task has stopped (see waitForEnd).
   * Throws TaskNotFoundError, or TaskStateError for a task that has ended.
   */
  cancel(id: string): Promise<void>;
  /** Deletes an ended task and its results; TaskStateError while it is active. */
  remove(id: string): Promise<void>;
  /** Tasks waiting for a worker, and tasks being scanned (by this process, or the whole cluster). */
  depth(): Promise<{ queued: number; running: number }>;
  /** Whether the service has begun to shut down. */
  readonly closing: boolean;
}

/** Reads tasks: the latest snapshot, lists, the terminal event. */
export interface TaskReader {
  get(id: string): Promise<StoredTask | null>;
  /** The real path the task scans (the audio route opens its files under it). */
  rootOf(id: string): Promise<string | null>;
  list(opts: { status?: TaskStatus | undefined; limit: number }): Promise<TaskSnapshot[]>;
  terminalEvent(id: string): Promise<TaskEvent | null>;
}

/** Per-task live events, as SSE streams and waiting requests follow them. */
export interface TaskEvents {
  /** Listens to one task's events (each after it is persisted); returns the function that stops. */
  subscribe(taskId: string, listener: (e: TaskEvent) => void): () => void;
  /** Called once when the service begins to shut down, so streams end and clients reconnect. */
  onClosing(listener: () => void): () => void;
  /** Listeners on one task, or on all: SSE clients and waiting requests. */
  listenerCount(taskId?: string): number;
}

/** Where the executor sends each event once it is persisted. */
export interface EventPublisher {
  /** `persisted` is false when the store refused the event (disk full): it is still delivered. */
  publish(event: TaskEvent, persisted: boolean): void;
}

/** What the executor reports while parts run: the sums over all parts of the task. */
export type TaskProgress = PartProgress;

/** Runs a task's parts (in this process, or spread over the cluster's workers). */
/** A task as its parts see it. */
export interface PartTask {
  taskId: string;
  root: string;
  analysis: Analysis;
  /** An earlier run may have recorded files. */
  resume: boolean;
  /** The scan to copy unchanged files' rows from; null to read everything. */
  reference: ReuseReference | null;
}

export interface PartRunner {
  /**
   * Runs every part of a task to its end and resolves with their merged aggregate; calls
   * `onProgress` with the sums over all parts as they move. Rejects with AbortError on abort
   * and with ScanFailure when the task cannot go on.
   */
  run(task: PartTask, parts: PartSpec[], signal: AbortSignal, onProgress: (p: TaskProgress) => void): Promise<ScanAggregator>;
}
