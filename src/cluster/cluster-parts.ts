import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import { ScanFailure } from '../domain/scan-failure.ts';
import { TASK_ERROR_CODES, type TaskErrorCode } from '../domain/task.ts';
import type { Logger } from '../logger.ts';
import { partId, type PartSpec } from '../scan/plan.ts';
import { ScanAggregator } from '../scan/summary.ts';
import { AbortError } from '../scan/worker-pool.ts';
import type { PgPartStore } from '../store/postgres/part-store.ts';
import { RETRIED_JOB_OPTIONS } from './retry-backoff.ts';
import { StoreUnavailableError } from '../store/types.ts';
import { CancelRequestedError } from '../tasks/errors.ts';
import type { PartRunner, PartTask, TaskProgress } from '../tasks/interfaces.ts';
import type { StopChannel } from './cancel-channel.ts';

export interface PartJobData {
  task_id: string;
  key: string;
}

/** BullMQ job options of a part: retried after a worker's death or an outage, gone from Redis once done. */
export const PART_JOB_OPTIONS = RETRIED_JOB_OPTIONS;

export interface ClusterPartsOptions {
  parts: PgPartStore;
  /** The BullMQ queue every worker takes parts from. */
  queue: Queue<PartJobData>;
  stop: StopChannel;
  /** A task with more WAV files than this fails with TOO_MANY_FILES (counted over all parts). */
  maxFiles: number;
  /** How often the parts' progress is summed: the task's progress interval. */
  pollMs: number;
  /** A part whose worker has been silent this long has its job put back (STALLED_TIMEOUT_S). */
  staleS: number;
  /** Counts the files of the parts' scopes (a walk in a worker thread of this process). */
  count(root: string, parts: PartSpec[], signal: AbortSignal): Promise<number>;
  logger: Logger;
}

const jobIdOf = (taskId: string, key: string): string => `${taskId}.${partId(key)}`;

const asTaskCode = (code: string): TaskErrorCode => ((TASK_ERROR_CODES as readonly string[]).includes(code) ? (code as TaskErrorCode) : 'INTERNAL_ERROR');

/**
 * Runs a task's parts on every worker of the cluster: registers them in PostgreSQL, hands them
 * out as BullMQ jobs, and sums their progress from PostgreSQL each poll until all are done. The
 * state of record is PostgreSQL, not Redis: a part whose worker has gone silent (killed, or its
 * job lost with a Redis that restarted empty) gets its job back, and a second run of a part
 * skips what the first recorded. A set cancel flag, a failed part or too many files end the wait.
 */
export class ClusterPartRunner implements PartRunner {
  private readonly wakers = new Map<string, () => void>();

  constructor(private readonly o: ClusterPartsOptions) {}

  /** A part of `taskId` has finished: look now rather than at the next poll. */
  wake(taskId: string): void {
    this.wakers.get(taskId)?.();
  }

  async run(task: PartTask, parts: PartSpec[], signal: AbortSignal, onProgress: (p: TaskProgress) => void): Promise<ScanAggregator> {
    const { parts: store, pollMs, staleS } = this.o;
    const taskId = task.taskId;
    await store.register(taskId, parts);
    const handOut = (which: (p: { silent_s: number | null }) => boolean) =>
      this.handOut(taskId, which).catch((err: unknown) =>
        // Redis away: the parts are in PostgreSQL, and are handed out again below once it is back.
        this.o.logger.warn('could not hand out parts', { task_id: taskId, error: (err as Error).message }),
      );
    await handOut(() => true);
    let lastHandOut = Date.now();
    // Parts report what they found only once they run, and most wait their turn: a walk of the
    // whole tree, here, while they read, gives files_total early (listing is fast, and it warms
    // the directory cache the parts then walk through). The parts' own count has the last word.
    let counted: number | null = null;
    this.o.count(task.root, parts, signal).then(
      (n) => (counted = n),
      () => {},
    );
    // However the loop ends (done, cancelled, failed, aborted), its waker goes: it was kept for the worker's life.
    try {
      for (;;) {
        if (signal.aborted) throw new AbortError();
        let t;
        try {
          t = await store.total(taskId);
        } catch (err) {
          if (!(err instanceof StoreUnavailableError)) throw err;
          await sleep(pollMs * 5, undefined, { signal }).catch(() => {});
          continue; // PostgreSQL away: parts cannot record either; wait for it
        }
        if (t.cancelRequested) {
          await this.stopParts(taskId); // parts also find the flag when they next report (part-store.ts)
          throw new CancelRequestedError(taskId);
        }
        if (t.partsFailed > 0) {
          const failed = (await store.list(taskId)).find((p) => p.status === 'failed');
          await this.stopParts(taskId);
          throw new ScanFailure(asTaskCode(failed?.error?.code ?? 'INTERNAL_ERROR'), failed?.error?.detail ?? 'A part of the scan failed');
        }
        if (t.found > this.o.maxFiles) {
          await this.stopParts(taskId);
          throw new ScanFailure('TOO_MANY_FILES', `The tree holds more than ${this.o.maxFiles} WAV files (MAX_FILES_PER_SCAN); scan a subset or raise the limit`);
        }
        const walked = t.walked && t.parts > 0;
        onProgress({
          found: walked || counted === null ? t.found : Math.max(counted, t.found),
          walked: walked || counted !== null,
          done: t.done,
          failed: t.failed,
          reused: t.reused,
          bytes: t.bytes,
        });
        if (t.partsDone === t.parts) break;
        if (Date.now() - lastHandOut > (staleS * 1000) / 2) {
          // Parts nobody has reported on for a while get their job again (a no-op while it exists).
          await handOut((p) => p.silent_s === null || p.silent_s > staleS);
          lastHandOut = Date.now();
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, pollMs);
          function done() {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            resolve();
          }
          signal.addEventListener('abort', done, { once: true });
          this.wakers.set(taskId, done);
        });
      }
    } finally {
      this.wakers.delete(taskId);
    }
    const agg = new ScanAggregator(task.analysis);
    for (const state of await store.aggregates(taskId)) agg.merge(state);
    return agg;
  }

  /** Adds a job for every pending part `which` selects; BullMQ ignores one whose job id it has. */
  private async handOut(taskId: string, which: (p: { silent_s: number | null }) => boolean): Promise<void> {
    const pending = (await this.o.parts.list(taskId)).filter((p) => p.status === 'pending' && which(p));
    if (!pending.length) return;
    await this.o.queue.addBulk(pending.map((p) => ({ name: 'part', data: { task_id: taskId, key: p.key }, opts: { ...PART_JOB_OPTIONS, jobId: jobIdOf(taskId, p.key) } })));
  }

  private async stopParts(taskId: string): Promise<void> {
    await this.o.stop.send({ task_id: taskId, kind: 'stop-parts' }).catch(() => {});
  }
}
