import type { TestProject } from 'vitest/node';
import { startPostgres, startRedis, type PostgresServer, type RedisServer } from '../helpers/cluster-infra.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A throwaway Redis for the cluster tests, or why there is none. */
    redisUrl: string | { error: string };
    /** A throwaway PostgreSQL's superuser URL, or why there is none. */
    postgresAdminUrl: string | { error: string };
  }
}

/**
 * Starts one Redis and one PostgreSQL for the whole run (each cluster test makes its own
 * database and queue names), and stops them at the end. A missing server is not an error here:
 * the tests that need it fail saying what to install, and the others still run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let redis: RedisServer | null = null;
  let postgres: PostgresServer | null = null;
  const [r, p] = await Promise.allSettled([startRedis(), startPostgres()]);
  if (r.status === 'fulfilled') {
    redis = r.value;
    project.provide('redisUrl', redis.url);
  } else project.provide('redisUrl', { error: String((r.reason as Error).message) });
  if (p.status === 'fulfilled') {
    postgres = p.value;
    project.provide('postgresAdminUrl', postgres.adminUrl);
  } else project.provide('postgresAdminUrl', { error: String((p.reason as Error).message) });
  return async () => {
    await Promise.allSettled([redis?.stop(), postgres?.dispose()]);
  };
}
