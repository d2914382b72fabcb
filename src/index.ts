// The process entry: config → service (store, workers, runner, app) → listen; signals close it all.
import { serve } from '@hono/node-server';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { createService } from './service.ts';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  throw err;
}

const logger = createLogger(config.LOG_LEVEL);
const service = await createService(config, logger);
const server = serve({ fetch: service.app.fetch, hostname: config.HOST, port: config.PORT }, (info) => {
  logger.info('listening', { url: `http://${info.family === 'IPv6' ? `[${info.address}]` : info.address}:${info.port}/`, db: config.DB_PATH, workers: config.SCAN_WORKERS });
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info('shutting down', { signal });
  const force = setTimeout(() => process.exit(1), 5000);
  force.unref();
  server.close();
  await service.close();
  (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
