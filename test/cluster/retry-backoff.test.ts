import { Backoffs, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { PART_JOB_OPTIONS } from '../../src/cluster/cluster-parts.ts';
import { SCAN_JOB_OPTIONS } from '../../src/cluster/cluster-queue.ts';
import { cappedBackoff, MAX_RETRY_DELAY_MS } from '../../src/cluster/retry-backoff.ts';
import { jobWorkerOptions } from '../../src/cluster/worker-node.ts';
import { sharedServers } from '../helpers/shared-servers.ts';

/** The back-off of jobs retried through an outage, as BullMQ computes it for our job options and workers' strategy. */

describe('job retries', () => {
  it('wait 1 s, 2 s, 4 s… and never more than 15 s, for tasks and parts alike (uncapped, a 130 s outage left parts idle 125 s after it)', () => {
    for (const opts of [SCAN_JOB_OPTIONS, PART_JOB_OPTIONS]) {
      const delays = Array.from({ length: 12 }, (_, i) => Backoffs.calculate(opts.backoff, i + 1, new Error('PostgreSQL is unavailable'), undefined as never, cappedBackoff));
      expect(delays).toEqual([1000, 2000, 4000, 8000, 15000, 15000, 15000, 15000, 15000, 15000, 15000, 15000]);
      // Retried for hours, not minutes: an outage that outlasts the attempts fails the job for good.
      expect(opts.attempts * MAX_RETRY_DELAY_MS).toBeGreaterThanOrEqual(4 * 3600 * 1000);
    }
  });

  it('a job failing through an outage is retried by a worker with our options (a worker without the strategy fails it for good)', async () => {
    const connection = new Redis(sharedServers().redisUrl, { maxRetriesPerRequest: null });
    onTestFinished(() => void connection.quit());
    const name = `retry-${randomUUID()}`;
    const queue = new Queue(name, { connection });
    onTestFinished(() => queue.obliterate({ force: true }).then(() => queue.close()));
    const tries: number[] = [];
    const worker = new Worker(
      name,
      async () => {
        tries.push(Date.now());
        if (tries.length < 3) throw new Error('PostgreSQL is unavailable');
        return 'done';
      },
      { connection, ...jobWorkerOptions(30) },
    );
    onTestFinished(() => worker.close());
    const done = new Promise<void>((resolve, reject) => {
      worker.on('completed', () => resolve());
      worker.on('failed', (job) => job && job.attemptsMade >= 3 && reject(new Error(`failed for good: ${job.failedReason}`)));
    });
    await queue.add('part', {}, SCAN_JOB_OPTIONS);
    await done;
    expect(tries).toHaveLength(3);
    // 1 s, then 2 s: the capped strategy's first steps.
    expect(tries[1]! - tries[0]!).toBeGreaterThanOrEqual(900);
    expect(tries[2]! - tries[1]!).toBeGreaterThanOrEqual(1900);
  }, 20_000);
});
