import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Config } from '../../src/config.ts';
import { startTestService, type TestService } from '../helpers/service.ts';

/** The test service listening on a free port of 127.0.0.1, for a browser to load. */
export async function serveTestService(
  overrides: Partial<Config> = {},
  options: Parameters<typeof startTestService>[1] = {},
): Promise<{ svc: TestService; origin: string; close(): Promise<void> }> {
  const svc = await startTestService(overrides, options);
  const server: ServerType = serve({ fetch: svc.app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((r) => server.once('listening', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    svc,
    origin,
    async close() {
      // Open EventSource and audio connections would keep close() waiting.
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise((r) => server.close(r));
      await svc.close();
    },
  };
}
