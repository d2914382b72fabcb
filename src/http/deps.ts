import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { TaskStore } from '../store/types.ts';
import type { TaskRunner } from '../tasks/runner.ts';

/** What the HTTP layer needs; built in index.ts (or a test) and handed to createApp. */
export interface AppDeps {
  config: Config;
  runner: TaskRunner;
  store: TaskStore;
  /** SCAN_ROOTS with symlinks resolved. */
  roots: string[];
  logger: Logger;
}

export const BASE = '/api/voice-library';
