import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Pcm16Converter } from '../scan/pcm16-converter.ts';
import type { ResultStore } from '../store/types.ts';
import type { TaskEvents, TaskQueue, TaskReader } from '../tasks/interfaces.ts';

/**
 * What the HTTP layer needs: interfaces only, so that the single process (in-memory queue,
 * SQLite) and a cluster (BullMQ, Redis, PostgreSQL) serve the same routes.
 */
export interface AppDeps {
  config: Config;
  queue: TaskQueue;
  reader: TaskReader;
  events: TaskEvents;
  results: ResultStore;
  /** SCAN_ROOTS with symlinks resolved. */
  roots: string[];
  logger: Logger;
  metrics: Metrics;
  /** The 16-bit conversion thread of the audio route. */
  converter: Pcm16Converter;
}

export const BASE = '/api/voice-library';
