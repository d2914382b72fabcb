import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { Pg } from '../../src/store/postgres/connection.ts';
import { StoreUnavailableError } from '../../src/store/types.ts';
import { startPostgres, type PostgresServer } from '../helpers/cluster-infra.ts';

/** The PostgreSQL pool (connection.ts) against a real server that stops answering. */

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  // A test that timed out while the server was frozen leaves it stopped: a stopped server never exits.
  server?.thaw();
  await server?.dispose();
});

describe('Pg', () => {
  it('a server that stops answering on open connections: queries fail as unavailable after the query timeout (they hung), and the pool serves again once it answers', async () => {
    const db = new Pg(await server.freshDatabase(), { max: 2, queryTimeoutMs: 400 });
    onTestFinished(() => db.close());
    // Both connections open and idle in the pool, as a running service's are.
    await Promise.all([db.query('SELECT pg_sleep(0.05)'), db.query('SELECT pg_sleep(0.05)')]);
    server.freeze();
    try {
      const t = performance.now();
      const results = await Promise.allSettled([db.query('SELECT 1'), db.tx((c) => c.query('SELECT 1'))]);
      expect(performance.now() - t).toBeLessThan(3000);
      for (const r of results) {
        expect(r.status).toBe('rejected');
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
      }
    } finally {
      server.thaw();
    }
    // The clients that timed out were dropped, not handed out again with their query pending.
    const rows = await Promise.all([0, 1, 2].map(async (i) => (await db.query<{ n: number }>('SELECT $1::int AS n', [i])).rows[0]!.n));
    expect(rows).toEqual([0, 1, 2]);
  });
});
