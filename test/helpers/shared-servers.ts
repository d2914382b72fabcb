import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** The run's shared servers (test/setup/cluster-servers.ts), or a failure naming what is missing. */
export function sharedServers(): { redisUrl: string; postgresAdminUrl: string } {
  const redisUrl = inject('redisUrl');
  const postgresAdminUrl = inject('postgresAdminUrl');
  if (typeof redisUrl !== 'string') throw new Error(`no Redis for the cluster tests: ${redisUrl.error}`);
  if (typeof postgresAdminUrl !== 'string') throw new Error(`no PostgreSQL for the cluster tests: ${postgresAdminUrl.error}`);
  return { redisUrl, postgresAdminUrl };
}

/** A new database on the run's PostgreSQL, owned by a role that is not a superuser. */
export async function freshDatabaseUrl(): Promise<string> {
  const { postgresAdminUrl } = sharedServers();
  const name = `vl_${randomBytes(6).toString('hex')}`;
  const c = new pg.Client({ connectionString: postgresAdminUrl });
  await c.connect();
  try {
    await c.query(`CREATE ROLE ${name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`);
    await c.query(`CREATE DATABASE ${name} OWNER ${name}`);
  } finally {
    await c.end();
  }
  const u = new URL(postgresAdminUrl);
  return `postgres://${name}@${u.host}/${name}`;
}
