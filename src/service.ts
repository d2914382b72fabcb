import type { Hono } from 'hono';
import { createApp } from './app.ts';
import type { Config } from './config.ts';
import { resolveRoots } from './http/scan-path.ts';
import { silentLogger, type Logger } from './logger.ts';
import { createScanner } from './scan/scanner.ts';
import type { WorkerFaults } from './scan/types.ts';
import { WorkerPool } from './scan/worker-pool.ts';
import { SqliteStore } from './store/sqlite.ts';
import type { TaskStore } from './store/types.ts';
import { TaskRunner } from './tasks/runner.ts';

export interface Service {
  app: Hono;
  runner: TaskRunner;
  store: TaskStore;
  pool: WorkerPool;
  /**
   * Stops the runner (running tasks stay resumable), the workers and the store. Resolves with
   * the number of worker threads stuck in a system call, which no normal exit can wait out.
   */
  close(): Promise<{ stuckThreads: number }>;
}

/**
 * Wires the single-process service: SQLite store → worker pool → scanner → runner → HTTP app,
 * and resumes what an earlier process left unfinished.
 */
export async function createService(config: Config, logger: Logger = silentLogger, options: { faults?: WorkerFaults } = {}): Promise<Service> {
  const store = new SqliteStore(config.DB_PATH);
  const roots = resolveRoots(config.SCAN_ROOTS);
  const pool = new WorkerPool(config.SCAN_WORKERS, { roots, faults: options.faults });
  const scanner = createScanner({ store, pool, maxFiles: config.MAX_FILES_PER_SCAN });
  const runner = new TaskRunner({
    store,
    scanner,
    maxConcurrent: config.MAX_CONCURRENT_SCANS,
    maxQueued: config.MAX_QUEUED_SCANS,
    progressIntervalMs: config.PROGRESS_INTERVAL_MS,
    onInternalError: (err, taskId) =>
      logger.error('task error', { task_id: taskId, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  });
  // At debug level every task event is logged with its time (the SSE benchmark measures delivery delay by it).
  if (config.LOG_LEVEL === 'debug') runner.on('event', (e) => logger.debug('task event', { task_id: e.snapshot.task_id, id: e.id, type: e.type, at_ms: performance.timeOrigin + performance.now() }));
  await runner.init();
  const app = createApp({ config, runner, store, roots, logger });
  let closing: Promise<{ stuckThreads: number }> | null = null;
  return {
    app,
    runner,
    store,
    pool,
    close: () =>
      (closing ??= (async () => {
        await runner.close();
        const { stuck } = await pool.close();
        await store.close();
        return { stuckThreads: stuck };
      })()),
  };
}
