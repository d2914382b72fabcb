// The process entry: config → service (store, workers, runner, app) → listen; signals close it all.
import { serve } from '@hono/node-server';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { createService, type Service } from './service.ts';
import { StoreOpenError } from './store/types.ts';

/** EX_CONFIG (sysexits.h): the process was configured wrong; restarting it will not help. */
const EX_CONFIG = 78;
/** However shutdown goes, the process is gone this long after the signal. */
const SHUTDOWN_DEADLINE_MS = 5000;

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
let service: Service;
try {
  service = await createService(config, logger);
} catch (err) {
  if (err instanceof StoreOpenError) {
    process.stderr.write(`Invalid configuration: ${err.message}\n`);
    process.exit(EX_CONFIG);
  }
  throw err;
}
const server = serve({ fetch: service.app.fetch, hostname: config.HOST, port: config.PORT }, (info) => {
  logger.info('listening', { url: `http://${info.family === 'IPv6' ? `[${info.address}]` : info.address}:${info.port}/`, db: config.DB_PATH, workers: config.SCAN_WORKERS });
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info('shutting down', { signal });
  // The last resort. process.exit() waits for worker threads to stop, and a thread inside a
  // system call that never returns (a hung network mount) never does: measured, a process
  // with one such thread was still alive minutes after exit(). SIGKILL cannot be waited on;
  // everything recorded is already committed (SQLite WAL), and the next start resumes.
  const force = setTimeout(() => {
    logger.error('shutdown deadline passed; killing the process', { deadline_ms: SHUTDOWN_DEADLINE_MS });
    process.kill(process.pid, 'SIGKILL');
  }, SHUTDOWN_DEADLINE_MS - 250);
  force.unref();
  server.close();
  await service.close();
  (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
