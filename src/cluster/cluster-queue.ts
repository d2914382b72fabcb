import type { Queue } from 'bullmq';
import { isTerminal, type ScanRequest, type TaskEvent, type TaskSnapshot } from '../domain/task.ts';
import type { PgStores } from '../store/postgres/index.ts';
import { QueueFullError, QueueUnavailableError, ShuttingDownError, TaskNotFoundError, TaskStateError } from '../tasks/errors.ts';
import type { EventPublisher, TaskQueue } from '../tasks/interfaces.ts';
import { newTask, queuedSnapshot } from '../tasks/local-queue.ts';
import { TaskEmitter } from '../tasks/task-emitter.ts';
import type { StopChannel } from './cancel-channel.ts';
import { redisCall } from './redis.ts';
import { RETRIED_JOB_OPTIONS } from './retry-backoff.ts';

export interface ClusterQueueOptions {
  stores: PgStores;
  /** The BullMQ queue of tasks (an API process only adds to it). */
  scans: Queue;
  publisher: EventPublisher;
  stop: StopChannel;
  /** Tasks waiting for a worker, cluster-wide; beyond it, 429. */
  maxQueued: number;
  progressIntervalMs: number;
}

const QUEUE_RETRY_AFTER_S = 10;

/** BullMQ job options of a task: retried after a worker's death or an outage, gone from Redis once done. */
export const SCAN_JOB_OPTIONS = RETRIED_JOB_OPTIONS;

/**
 * A cluster's queue as an API process sees it: tasks are recorded in PostgreSQL (where the
 * admission limit is checked, cluster-wide, in the same transaction) and handed to the workers
 * as BullMQ jobs; a cancel is recorded, ends a task still waiting at once, and reaches the
 * workers of a running one over Redis.
 */
export class ClusterTaskQueue implements TaskQueue {
  private stopping = false;

  constructor(private readonly opts: ClusterQueueOptions) {}

  async submit(req: ScanRequest): Promise<TaskSnapshot> {
    if (this.stopping) throw new ShuttingDownError();
    const { stores, scans, publisher, maxQueued } = this.opts;
    const snap = queuedSnapshot(req);
    const first: TaskEvent = { id: 1, type: 'progress', snapshot: { ...snap } };
    if (!(await stores.tasks.insertTask(newTask(req, snap), first, maxQueued))) throw new QueueFullError(QUEUE_RETRY_AFTER_S);
    try {
      await redisCall(() => scans.add('scan', { task_id: snap.task_id }, { ...SCAN_JOB_OPTIONS, jobId: snap.task_id }));
    } catch (err) {
      // Nobody would ever run it: take it back, and say the queue is away.
      await stores.tasks.deleteTask(snap.task_id).catch(() => {});
      throw err instanceof QueueUnavailableError ? err : new QueueUnavailableError(`Could not queue the task: ${(err as Error).message}`);
    }
    publisher.publish(first, true);
    return { ...snap };
  }

  async cancel(id: string): Promise<void> {
    const { stores, scans, stop } = this.opts;
    const rec = await stores.tasks.getRecord(id);
    if (!rec) throw new TaskNotFoundError(id);
    if (isTerminal(rec.snapshot.status)) throw new TaskStateError(id, false);
    // Recorded first: whoever runs or later takes the task sees it, whatever Redis does.
    await stores.tasks.requestCancel(id);
    if (rec.snapshot.status === 'queued') {
      // A job no worker holds yet is taken out; one a worker just took stays, and is told below.
      await scans
        .getJob(id)
        .then(async (job) => {
          if (job && ['waiting', 'delayed', 'prioritized'].includes(await job.getState())) await job.remove();
        })
        .catch(() => {});
      const em = new TaskEmitter({ events: stores.events, publisher: this.opts.publisher, progressIntervalMs: this.opts.progressIntervalMs }, rec.snapshot, rec.last_event_id);
      if (await em.finish('cancelled', { onlyIf: ['queued'] })) return;
    }
    await stop.send({ task_id: id, kind: 'cancel' }).catch(() => {
      // Redis away: workers find the flag in PostgreSQL on their next look.
    });
  }

  async remove(id: string): Promise<void> {
    const rec = await this.opts.stores.tasks.getTask(id);
    if (!rec) throw new TaskNotFoundError(id);
    if (!isTerminal(rec.snapshot.status)) throw new TaskStateError(id, true);
    await this.opts.stores.tasks.deleteTask(id);
  }

  async depth(): Promise<{ queued: number; running: number }> {
    const c = await this.opts.stores.tasks.countByStatus();
    return { queued: c.queued, running: c.running };
  }

  get closing(): boolean {
    return this.stopping;
  }

  close(): void {
    this.stopping = true;
  }
}
