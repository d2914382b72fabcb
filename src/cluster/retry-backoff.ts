import type { BackoffStrategy } from 'bullmq';

/** The longest wait before a job is tried again. */
export const MAX_RETRY_DELAY_MS = 15_000;

/**
 * Back-off of a task or part job retried after an outage (a job fails at once while PostgreSQL
 * is down): doubling from 1 s, at most MAX_RETRY_DELAY_MS. BullMQ's own exponential back-off has
 * no cap: after a 130 s PostgreSQL outage a part waited 125 s more before it was tried again,
 * and a scan idled about as long as the outage had lasted.
 */
export const cappedBackoff: BackoffStrategy = (attemptsMade) => Math.min(MAX_RETRY_DELAY_MS, 1000 * 2 ** Math.max(0, attemptsMade - 1));

/**
 * BullMQ job options shared by tasks and parts: retried with cappedBackoff (the workers name it
 * in their `settings`) for about 4 h of attempts, and gone from Redis once done.
 */
export const RETRIED_JOB_OPTIONS = {
  attempts: 1000,
  backoff: { type: 'capped' },
  removeOnComplete: true,
  removeOnFail: true,
};
