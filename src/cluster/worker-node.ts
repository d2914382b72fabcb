import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import os from 'node:os';
import { DelayedError, Queue, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { ScanFailure } from '../domain/scan-failure.ts';
import { isTerminal } from '../domain/task.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { NO_PROGRESS, scanPart, type PartProgress } from '../scan/scan-part.ts';
import { findReference } from '../tasks/reference.ts';
import { AbortError, type WorkerPool } from '../scan/worker-pool.ts';
import type { PgStores } from '../store/postgres/index.ts';
import { StoreUnavailableError } from '../store/types.ts';
import { HANDED_OVER, SHUTDOWN, TaskExecutor } from '../tasks/executor.ts';
import type { EventPublisher } from '../tasks/interfaces.ts';
import { StopChannel, type StopMessage } from './cancel-channel.ts';
import { ClusterPartRunner, type PartJobData } from './cluster-parts.ts';
import { SCAN_JOB_OPTIONS } from './cluster-queue.ts';
import { cappedBackoff } from './retry-backoff.ts';
import type { ClusterNames } from './redis.ts';

export interface WorkerNodeOptions {
  stores: PgStores;
  pool: WorkerPool;
  names: ClusterNames;
  /** Connections: BullMQ's (workers, queues), a subscriber for stop messages, a publisher. */
  connection: Redis;
  subscriber: Redis;
  publisher: Redis;
  /** Tasks this process coordinates at once (MAX_CONCURRENT_SCANS). */
  maxConcurrentScans: number;
  /** Parts this process scans at once. */
  partConcurrency: number;
  maxFiles: number;
  progressIntervalMs: number;
  /** STALLED_TIMEOUT_S: how soon another worker takes over the work of one that died. */
  staleS: number;
  logger: Logger;
  metrics?: Metrics;
}

/** PostgreSQL's SQLSTATE when a row's task no longer exists (results of a task deleted mid-part). */
const FOREIGN_KEY_VIOLATION = '23503';

/** Why a part stopped because its task no longer wants it (cancelled, failed elsewhere). */
const STOPPED = Symbol('stopped');

/**
 * Options of the workers that take task and part jobs: a lock half as long as the stall timeout,
 * checked as often (a dead worker's jobs are taken over within it), and the back-off the jobs
 * name (retry-backoff.ts), without which a worker could not retry them.
 */
export function jobWorkerOptions(staleS: number) {
  return { lockDuration: (staleS * 1000) / 2, stalledInterval: (staleS * 1000) / 2, maxStalledCount: 100, settings: { backoffStrategy: cappedBackoff } };
}

/**
 * A cluster worker: takes tasks (coordinating each: plan, parts, progress, summary — the same
 * TaskExecutor as the single process) and parts (the same scanPart) from BullMQ, listens for
 * stop messages, and puts back the tasks nobody coordinates any more. On shutdown it hands its
 * tasks and parts back to the queue for other workers.
 */
export class WorkerNode {
  readonly id = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly coordinators = new Map<string, AbortController>();
  private readonly parts = new Map<string, Set<AbortController>>();
  private readonly scanQueue: Queue;
  private readonly partQueue: Queue<PartJobData>;
  private readonly executor: TaskExecutor;
  private readonly partRunner: ClusterPartRunner;
  private readonly control: StopChannel;
  private scanWorker: Worker | null = null;
  private partWorker: Worker<PartJobData> | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private reconciler: NodeJS.Timeout | null = null;
  private stopping = false;

  constructor(private readonly o: WorkerNodeOptions) {
    const { names, connection, stores, pool } = o;
    this.scanQueue = new Queue(names.scanQueue, { connection, prefix: names.prefix });
    this.partQueue = new Queue<PartJobData>(names.partQueue, { connection, prefix: names.prefix });
    // Connection errors are logged by the connection (redis.ts); unheard here, they would print stacks.
    for (const q of [this.scanQueue, this.partQueue] as Queue[]) q.on('error', () => {});
    const stop = new StopChannel(o.publisher, names.cancelChannel);
    this.control = stop;
    const publisher: EventPublisher = { publish: (e) => void o.publisher.publish(names.eventsChannel, JSON.stringify(e)).catch(() => {}) };
    this.executor = new TaskExecutor({
      events: stores.events,
      results: stores.results,
      publisher,
      parts: (this.partRunner = new ClusterPartRunner({
        parts: stores.parts,
        queue: this.partQueue,
        stop,
        maxFiles: o.maxFiles,
        pollMs: o.progressIntervalMs,
        staleS: o.staleS,
        count: (root, parts, signal) =>
          pool.count(
            root,
            parts.map((p) => p.scope),
            signal,
          ),
        logger: o.logger,
      })),
      plan: (task, signal) => pool.plan(task.root, task.subsets, signal),
      speakers: (root, signal) => pool.speakers(root, signal),
      reference: (record) => findReference(stores.tasks, record),
      progressIntervalMs: o.progressIntervalMs,
      onInternalError: (err, taskId) => o.logger.error('task error', { task_id: taskId, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      onEnded: (s) => o.metrics?.ended(s),
    });
  }

  async start(): Promise<void> {
    const { names, connection, staleS } = this.o;
    this.unlisten = await StopChannel.listen(this.o.subscriber, names.cancelChannel, (m) => this.onStop(m));
    const lock = jobWorkerOptions(staleS);
    this.scanWorker = new Worker(names.scanQueue, (job, token) => this.coordinate(job, token), {
      connection,
      prefix: names.prefix,
      concurrency: this.o.maxConcurrentScans,
      ...lock,
    });
    this.partWorker = new Worker<PartJobData>(names.partQueue, (job, token) => this.scanOnePart(job, token), {
      connection,
      prefix: names.prefix,
      concurrency: this.o.partConcurrency,
      ...lock,
    });
    for (const w of [this.scanWorker, this.partWorker]) w.on('error', (err) => this.o.logger.warn('queue worker error', { error: err.message }));
    this.reconciler = setInterval(() => void this.reconcile(), Math.max(1000, (staleS * 1000) / 2));
    this.reconciler.unref();
    void this.reconcile();
  }

  /** Tasks coordinated and parts scanned here right now. */
  get running(): number {
    return this.coordinators.size + [...this.parts.values()].reduce((n, s) => n + s.size, 0);
  }

  /** Stops taking work and hands what it holds back to the queue for other workers. */
  async close(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.reconciler) clearInterval(this.reconciler);
    for (const c of this.coordinators.values()) c.abort(SHUTDOWN);
    for (const set of this.parts.values()) for (const c of set) c.abort(SHUTDOWN);
    const closing = Promise.all([this.scanWorker?.close(), this.partWorker?.close()]);
    const graceful = await Promise.race([closing.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000).unref())]);
    if (!graceful) await Promise.all([this.scanWorker?.close(true), this.partWorker?.close(true)]).catch(() => {});
    await this.unlisten?.();
    await Promise.all([this.scanQueue.close(), this.partQueue.close()]).catch(() => {});
  }

  private onStop(m: StopMessage): void {
    if (m.kind === 'part-done') return this.partRunner.wake(m.task_id);
    if (m.kind === 'cancel') this.coordinators.get(m.task_id)?.abort();
    for (const c of this.parts.get(m.task_id) ?? []) c.abort(STOPPED);
  }

  /** Puts back the job of every unfinished task nobody coordinates (a no-op for jobs BullMQ still has). */
  private async reconcile(): Promise<void> {
    if (this.stopping) return;
    try {
      for (const id of await this.o.stores.tasks.orphans(this.o.staleS)) {
        await this.scanQueue.add('scan', { task_id: id }, { ...SCAN_JOB_OPTIONS, jobId: id });
      }
    } catch {
      // Redis or PostgreSQL away: the next round tries again
    }
  }

  /** Hands a job back to the queue for another worker (shutdown): BullMQ must not complete it. */
  private async handBack(job: Job, token: string | undefined): Promise<never> {
    await job.moveToWait(token);
    throw new WaitingError();
  }

  private async coordinate(job: Job, token: string | undefined): Promise<void> {
    const taskId = (job.data as { task_id: string }).task_id;
    if (this.stopping) return this.handBack(job, token);
    const { stores, staleS } = this.o;
    const rec = await stores.tasks.getRecord(taskId);
    if (!rec || isTerminal(rec.snapshot.status)) return;
    if (!(await stores.tasks.claimCoordination(taskId, this.id, staleS))) {
      // Another worker coordinates it and is alive: check again once its lease could have lapsed.
      await job.moveToDelayed(Date.now() + staleS * 1000, token);
      throw new DelayedError();
    }
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    this.coordinators.set(taskId, controller);
    // Renew the lease; losing it (silent past the timeout, another took over) stops this one.
    const lease = setInterval(
      () => {
        stores.tasks
          .claimCoordination(taskId, this.id, staleS)
          .then((held) => {
            if (!held) controller.abort(HANDED_OVER);
          })
          .catch(() => {});
      },
      (staleS * 1000) / 4,
    );
    try {
      const outcome = await this.executor.run({ ...rec }, controller.signal);
      if (outcome === 'interrupted' && controller.signal.reason === SHUTDOWN) {
        await stores.tasks.releaseCoordination(taskId, this.id).catch(() => {});
        return this.handBack(job, token);
      }
    } finally {
      clearInterval(lease);
      this.coordinators.delete(taskId);
    }
  }

  private async scanOnePart(job: Job<PartJobData>, token: string | undefined): Promise<void> {
    const { task_id: taskId, key } = job.data;
    if (this.stopping) return this.handBack(job, token);
    const { stores, pool, logger } = this.o;
    const rec = await stores.tasks.getRecord(taskId);
    if (!rec || isTerminal(rec.snapshot.status) || rec.cancel_requested) return;
    const taken = await stores.parts.take(taskId, key, this.id);
    if (!taken) return; // done already, by an earlier run
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    const mine = this.parts.get(taskId) ?? new Set<AbortController>();
    this.parts.set(taskId, mine.add(controller));
    let last: PartProgress = { ...NO_PROGRESS };
    let reported = 0;
    const report = (force = false) => {
      if (!force && Date.now() - reported < 250) return;
      reported = Date.now();
      // A task cancelled, ended or deleted stops its parts here too: the stop message goes over
      // Redis, and a part that missed it scanned on to its end (into a deleted task: errors).
      void stores.parts
        .report(taskId, key, last)
        .then((wanted) => wanted || controller.abort(STOPPED))
        .catch(() => {});
    };
    // A sign of life while a long batch is read, so that the part is not taken for dead.
    const beat = setInterval(() => report(true), (this.o.staleS * 1000) / 4);
    try {
      const agg = await scanPart(
        // Each part looks up the reference when it starts: the latest completed scan of the root by then.
        { taskId, root: rec.root, analysis: rec.snapshot.analysis, part: taken.spec, resume: taken.resume, reference: await findReference(stores.tasks, rec) },
        { pool, results: stores.results, metrics: this.o.metrics },
        controller.signal,
        (p) => {
          last = p;
          report();
        },
      );
      await stores.parts.finish(taskId, key, last, agg.toState());
      void this.control.send({ task_id: taskId, kind: 'part-done' }).catch(() => {});
    } catch (err) {
      const reason: unknown = controller.signal.reason;
      if (controller.signal.aborted && reason === SHUTDOWN) return this.handBack(job, token);
      if (controller.signal.aborted || err instanceof AbortError) return; // its task no longer wants it
      if ((err as { code?: string }).code === FOREIGN_KEY_VIOLATION) return; // its task was deleted meanwhile
      if (err instanceof StoreUnavailableError) throw err; // BullMQ retries it, with back-off
      const failure = err instanceof ScanFailure ? err : null;
      if (!failure) logger.error('part failed', { task_id: taskId, part: key, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      await stores.parts.fail(
        taskId,
        key,
        failure ? { code: failure.code, detail: failure.detail } : { code: 'INTERNAL_ERROR', detail: 'A part of the scan failed unexpectedly; see the worker log' },
      );
    } finally {
      clearInterval(beat);
      mine.delete(controller);
      if (!mine.size) this.parts.delete(taskId);
    }
  }
}
