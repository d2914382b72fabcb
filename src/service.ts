import type { Hono } from 'hono';
import { createApp } from './app.ts';
import type { Config } from './config.ts';
import { resolveRoots } from './http/scan-path.ts';
import { silentLogger, type Logger } from './logger.ts';
import { Metrics } from './metrics.ts';
import { wholeTreePlan } from './scan/plan.ts';
import type { WorkerFaults } from './scan/types.ts';
import { Pcm16Converter } from './scan/pcm16-converter.ts';
import { WorkerPool } from './scan/worker-pool.ts';
import { openSqliteStores } from './store/sqlite/index.ts';
import type { Stores } from './store/types.ts';
import { TaskExecutor } from './tasks/executor.ts';
import type { TaskEvents, TaskQueue, TaskReader } from './tasks/interfaces.ts';
import { LocalEvents } from './tasks/local-events.ts';
import { findReference } from './tasks/reference.ts';
import { LocalPartRunner } from './tasks/local-parts.ts';
import { LocalTaskQueue } from './tasks/local-queue.ts';
import { StoreReader } from './tasks/store-reader.ts';

export interface Service {
  app: Hono;
  metrics: Metrics;
  queue: TaskQueue;
  reader: TaskReader;
  events: TaskEvents;
  stores: Stores;
  /** The scan worker threads (absent in a cluster's API-only process). */
  pool: WorkerPool | null;
  /**
   * Stops taking work, interrupts running scans (they stay resumable), stops the workers and
   * lets go of the stores. Resolves with the number of worker threads stuck in a system call,
   * which no normal exit can wait out.
   */
  close(): Promise<{ stuckThreads: number }>;
}

export interface ServiceOptions {
  /** Faults injected into scan workers, for tests of crash and hang handling. */
  faults?: WorkerFaults;
}

/** Logs what the executor could not handle, with the task it belongs to. */
export const internalErrorLogger =
  (logger: Logger) =>
  (err: unknown, taskId: string): void =>
    logger.error('task error', { task_id: taskId, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });

/** The single-process service, with its concrete parts visible to tests and benchmarks. */
export interface SingleService extends Service {
  queue: LocalTaskQueue;
  events: LocalEvents;
  stores: ReturnType<typeof openSqliteStores>;
  pool: WorkerPool;
}

/**
 * Wires the single-process service: SQLite stores → worker pool → executor (one part per task)
 * → in-memory queue and event bus → HTTP app, and resumes what an earlier process left
 * unfinished.
 */
export async function createService(config: Config, logger: Logger = silentLogger, options: ServiceOptions = {}): Promise<SingleService> {
  const stores = openSqliteStores(config.DB_PATH);
  const roots = resolveRoots(config.SCAN_ROOTS);
  const pool = new WorkerPool(config.SCAN_WORKERS, { roots, faults: options.faults });
  const events = new LocalEvents();
  const onInternalError = internalErrorLogger(logger);
  // The queue is created below; the gauges read it when scraped.
  let queueRef: LocalTaskQueue | null = null;
  const metrics = new Metrics({ tasksByStatus: () => stores.tasks.countByStatus(), queueDepth: async () => (queueRef ? queueRef.depth() : { queued: 0, running: 0 }) });
  const executor = new TaskExecutor({
    events: stores.events,
    results: stores.results,
    publisher: events,
    parts: new LocalPartRunner({ pool, results: stores.results, maxFiles: config.MAX_FILES_PER_SCAN, metrics }),
    plan: async (task) => wholeTreePlan(task.subsets),
    speakers: (root, signal) => pool.speakers(root, signal),
    reference: (record) => findReference(stores.tasks, record),
    progressIntervalMs: config.PROGRESS_INTERVAL_MS,
    onInternalError,
    onEnded: (s) => metrics.ended(s),
  });
  const queue = new LocalTaskQueue({ tasks: stores.tasks, events, executor, maxConcurrent: config.MAX_CONCURRENT_SCANS, maxQueued: config.MAX_QUEUED_SCANS, onInternalError });
  // At debug level every task event is logged with its time (the SSE benchmark measures delivery delay by it).
  if (config.LOG_LEVEL === 'debug') {
    events.onAny((e) => logger.debug('task event', { task_id: e.snapshot.task_id, id: e.id, type: e.type, at_ms: performance.timeOrigin + performance.now() }));
  }
  queueRef = queue;
  await queue.init();
  const reader = new StoreReader(stores.tasks, stores.events, events);
  const converter = new Pcm16Converter(config.MAX_AUDIO_CONVERSIONS);
  const app = createApp({ config, queue, reader, events, results: stores.results, roots, logger, metrics, converter });
  let closing: Promise<{ stuckThreads: number }> | null = null;
  return {
    app,
    metrics,
    queue,
    reader,
    events,
    stores,
    pool,
    close: () =>
      (closing ??= (async () => {
        await queue.close();
        const { stuck } = await pool.close();
        await converter.close();
        await stores.close();
        return { stuckThreads: stuck };
      })()),
  };
}
