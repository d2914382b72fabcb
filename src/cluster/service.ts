import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Hono } from 'hono';
import { createApp } from '../app.ts';
import type { Config } from '../config.ts';
import { AppError, errorResponse, toAppError } from '../errors.ts';
import { bearerAuth } from '../http/auth.ts';
import { Metrics } from '../metrics.ts';
import { resolveRoots } from '../http/scan-path.ts';
import type { Logger } from '../logger.ts';
import type { WorkerFaults } from '../scan/types.ts';
import { Pcm16Converter } from '../scan/pcm16-converter.ts';
import { WorkerPool } from '../scan/worker-pool.ts';
import { openPgStores, type PgStores } from '../store/postgres/index.ts';
import { StoreOpenError, StoreUnavailableError } from '../store/types.ts';
import { StoreReader } from '../tasks/store-reader.ts';
import { StopChannel } from './cancel-channel.ts';
import { ClusterTaskQueue } from './cluster-queue.ts';
import { clusterNames, redisConnection } from './redis.ts';
import { RedisEvents } from './redis-events.ts';
import { WorkerNode } from './worker-node.ts';

export interface ClusterService {
  app: Hono;
  metrics: Metrics;
  stores: PgStores;
  /** Present when this process serves the API (ROLE=api or all). */
  queue: ClusterTaskQueue | null;
  events: RedisEvents | null;
  /** Present when this process scans (ROLE=worker or all). */
  worker: WorkerNode | null;
  pool: WorkerPool | null;
  close(): Promise<{ stuckThreads: number }>;
}

/** Opens the PostgreSQL stores, waiting for a server that is not up yet; bad settings are a StoreOpenError. */
async function openStoresPatiently(url: string, logger: Logger): Promise<PgStores> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await openPgStores(url, { onError: (err) => logger.warn('postgresql connection error', { error: err.message }) });
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw new StoreOpenError(`Cannot use DATABASE_URL: ${(err as Error).message}`);
      if (attempt === 1 || attempt % 10 === 0) logger.warn('waiting for PostgreSQL', { error: err.message });
      await sleep(Math.min(500 * attempt, 5000));
    }
  }
}

/** The only routes of a worker-only process: its health and its metrics, for the orchestrator. */
function healthApp(worker: WorkerNode, metrics: Metrics, token: string | undefined): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok', role: 'worker', running: worker.running }));
  app.get('/metrics', bearerAuth(token), async (c) => c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType }));
  app.onError((err, c) => errorResponse(c, toAppError(err)));
  app.notFound((c) => errorResponse(c, new AppError(404, 'NOT_FOUND', `No route for ${c.req.method} ${c.req.path}: this process is a worker (ROLE=worker)`)));
  return app;
}

/**
 * Wires one process of a cluster: PostgreSQL stores for everything, BullMQ on Redis for the
 * queue, Redis pub/sub for live events and stop messages. ROLE=api serves HTTP and never scans;
 * ROLE=worker scans and answers only /healthz; ROLE=all does both.
 */
export async function createClusterService(
  config: Config & { REDIS_URL: string; DATABASE_URL: string },
  logger: Logger,
  options: { faults?: WorkerFaults } = {},
): Promise<ClusterService> {
  const names = clusterNames(config.REDIS_PREFIX);
  const stores = await openStoresPatiently(config.DATABASE_URL, logger);
  const metrics = new Metrics({ tasksByStatus: () => stores.tasks.countByStatus(), queueDepth: async () => ({ queued: (await stores.tasks.countByStatus()).queued, running: 0 }) });
  const roots = resolveRoots(config.SCAN_ROOTS);
  const serves = config.ROLE !== 'worker';
  const scans = config.ROLE !== 'api';
  const connections = [] as { disconnect(): void }[];
  const conn = (role: 'request' | 'worker', name: string) => {
    const c = redisConnection(config.REDIS_URL, role, logger, name);
    connections.push(c);
    return c;
  };
  const publisher = conn('request', 'publisher');
  const converter = new Pcm16Converter(config.MAX_AUDIO_CONVERSIONS);

  let pool: WorkerPool | null = null;
  let worker: WorkerNode | null = null;
  if (config.ROLE === 'worker') {
    // A worker process answers nobody waiting but /healthz: it yields the CPU to the API processes
    // and databases sharing the machine (its scan threads are niced already, see worker.ts).
    try {
      os.setPriority(10);
    } catch {
      // not allowed: run at normal priority
    }
  }
  if (scans) {
    pool = new WorkerPool(config.SCAN_WORKERS, { roots, faults: options.faults });
    worker = new WorkerNode({
      stores,
      pool,
      names,
      connection: conn('worker', 'bullmq'),
      subscriber: conn('worker', 'stop-subscriber'),
      publisher,
      maxConcurrentScans: config.MAX_CONCURRENT_SCANS,
      // One part more than threads: the next part's walk starts while the last one's tail is recorded.
      partConcurrency: config.SCAN_WORKERS + 1,
      maxFiles: config.MAX_FILES_PER_SCAN,
      progressIntervalMs: config.PROGRESS_INTERVAL_MS,
      staleS: config.STALLED_TIMEOUT_S,
      logger,
      metrics,
    });
    await worker.start();
  }

  let queue: ClusterTaskQueue | null = null;
  let events: RedisEvents | null = null;
  let scanQueue: Queue | null = null;
  let app: Hono;
  if (serves) {
    scanQueue = new Queue(names.scanQueue, { connection: conn('request', 'producer'), prefix: names.prefix });
    scanQueue.on('error', () => {}); // the connection logs; a POST answers 503
    const reader0 = new StoreReader(stores.tasks, stores.events);
    events = new RedisEvents(publisher, conn('worker', 'events-subscriber'), names.eventsChannel, reader0);
    queue = new ClusterTaskQueue({
      stores,
      scans: scanQueue,
      publisher: events,
      stop: new StopChannel(publisher, names.cancelChannel),
      maxQueued: config.MAX_QUEUED_SCANS,
      progressIntervalMs: config.PROGRESS_INTERVAL_MS,
    });
    app = createApp({ config, queue, reader: reader0, events, results: stores.results, roots, logger, metrics, converter });
  } else {
    app = healthApp(worker!, metrics, config.API_TOKEN);
  }

  let closing: Promise<{ stuckThreads: number }> | null = null;
  return {
    app,
    metrics,
    stores,
    queue,
    events,
    worker,
    pool,
    close: () =>
      (closing ??= (async () => {
        queue?.close();
        events?.close();
        await worker?.close();
        const stuck = pool ? (await pool.close()).stuck : 0;
        await converter.close();
        await scanQueue?.close().catch(() => {});
        for (const c of connections) c.disconnect();
        await stores.close().catch(() => {});
        return { stuckThreads: stuck };
      })()),
  };
}
