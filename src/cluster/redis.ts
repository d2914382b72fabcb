import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.ts';
import { QueueUnavailableError } from '../tasks/errors.ts';

/** What a connection is for: each kind wants different behaviour while Redis is away. */
export type RedisRole =
  /** Commands a request waits on (adding a job, publishing): fail at once, so the API answers 503. */
  | 'request'
  /** BullMQ workers and subscribers: wait and reconnect forever (BullMQ requires maxRetriesPerRequest: null). */
  | 'worker';

/**
 * An ioredis connection for one role. Connection errors are logged at most once every 10 s per
 * connection (ioredis retries on its own); without a listener they would be unhandled.
 */
export function redisConnection(url: string, role: RedisRole, logger: Logger, name: string): Redis {
  const options: RedisOptions =
    role === 'request' ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 3000, lazyConnect: false } : { maxRetriesPerRequest: null, enableReadyCheck: true };
  const conn = new Redis(url, { ...options, connectionName: `vl-${name}`, retryStrategy: (n) => Math.min(200 * n, 2000) });
  let lastLog = 0;
  conn.on('error', (err: Error) => {
    if (Date.now() - lastLog < 10_000) return;
    lastLog = Date.now();
    logger.warn('redis connection error', { connection: name, error: err.message });
  });
  return conn;
}

/** Runs a Redis command a request is waiting on; Redis being away becomes QueueUnavailableError. */
export async function redisCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const message = (err as Error)?.message ?? String(err);
    if (/Stream isn't writeable|Connection is closed|ECONNREFUSED|ETIMEDOUT|ECONNRESET|connect|MaxRetriesPerRequest|reached the max retries/i.test(message)) {
      throw new QueueUnavailableError(`Redis is unavailable: ${message}`);
    }
    throw err;
  }
}

/** Names of the queues and channels of one deployment (REDIS_PREFIX). */
export interface ClusterNames {
  prefix: string;
  scanQueue: string;
  partQueue: string;
  eventsChannel: string;
  cancelChannel: string;
}

export const clusterNames = (prefix: string): ClusterNames => ({
  prefix,
  scanQueue: 'scan',
  partQueue: 'scan-part',
  eventsChannel: `${prefix}:events`,
  cancelChannel: `${prefix}:cancel`,
});
