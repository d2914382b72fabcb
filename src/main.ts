// The process lifecycle: config → service (store, workers, runner, app) → listen; signals close it all.
import { serve } from '@hono/node-server';
import { createClusterService } from './cluster/service.ts';
import { ConfigError, isCluster, loadConfig } from './config.ts';
import { answerClientErrors } from './http/client-errors.ts';
import { createLogger } from './logger.ts';
import type { WorkerFaults } from './scan/types.ts';
import { createService } from './service.ts';
import { StoreOpenError } from './store/types.ts';

/** EX_CONFIG (sysexits.h): the process was configured wrong; restarting it will not help. */
const EX_CONFIG = 78;
/** However shutdown goes, the process is gone this long after the signal. */
const SHUTDOWN_DEADLINE_MS = 5000;

/**
 * Runs the service as this process: exits 78 on bad configuration, and on SIGINT/SIGTERM stops
 * within SHUTDOWN_DEADLINE_MS whatever state it is in. `faults` is for tests of that promise.
 */
export async function main(options: { faults?: WorkerFaults } = {}): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(EX_CONFIG);
    }
    throw err;
  }

  const logger = createLogger(config.LOG_LEVEL);
  let service: { app: { fetch: (req: Request) => Response | Promise<Response> }; close(): Promise<{ stuckThreads: number }> };
  try {
    service = isCluster(config) ? await createClusterService(config, logger, { faults: options.faults }) : await createService(config, logger, { faults: options.faults });
  } catch (err) {
    if (err instanceof StoreOpenError) {
      process.stderr.write(`Invalid configuration: ${err.message}\n`);
      process.exit(EX_CONFIG);
    }
    throw err;
  }
  const server = serve({ fetch: service.app.fetch, hostname: config.HOST, port: config.PORT }, (info) => {
    logger.info('listening', {
      url: `http://${info.family === 'IPv6' ? `[${info.address}]` : info.address}:${info.port}/`,
      mode: isCluster(config) ? `cluster (ROLE=${config.ROLE})` : 'single process',
      db: isCluster(config) ? 'postgresql' : config.DB_PATH,
      workers: config.ROLE === 'api' ? 0 : config.SCAN_WORKERS,
    });
  });

  answerClientErrors(server);

  let stopping = false;
  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    // Two last resorts. process.exit() waits for every worker thread to stop, and a thread in a
    // system call that never returns (a hung network mount) never does: measured, such a
    // process was still alive minutes after exit(), its timers frozen. So the process kills
    // itself instead when a thread is stuck, and when the deadline passes. SIGKILL cannot be
    // waited on; everything recorded is committed (SQLite WAL) and the next start resumes.
    const kill = (why: string) => {
      logger.error(why, { deadline_ms: SHUTDOWN_DEADLINE_MS });
      process.kill(process.pid, 'SIGKILL');
    };
    const force = setTimeout(() => kill('shutdown deadline passed; killing the process'), SHUTDOWN_DEADLINE_MS - 500);
    force.unref();
    server.close();
    const { stuckThreads } = await service.close();
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    if (stuckThreads > 0) kill(`${stuckThreads} scan thread(s) stuck in a system call; killing the process`);
    process.exit(0);
  }
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}
