import pg from 'pg';
import { StorageFullError, StoreUnavailableError } from '../types.ts';

// int8 (COUNT, SUM, bigint columns) as numbers: every count here is far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

/** SQLSTATE classes that mean "cannot reach or use the server now", not "this query is wrong". */
const UNAVAILABLE = /^(08|57P0[1-3]|53300|53400)/;
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE', 'EAI_AGAIN']);

/** Maps a pg error to a store-neutral one where there is one; anything else passes through. */
export function mapPgError(err: unknown): unknown {
  const e = err as { code?: string; message?: string };
  if (e?.code === '53100') return new StorageFullError('The database disk is full; results recorded so far are kept');
  if (
    (e?.code && (UNAVAILABLE.test(e.code) || NETWORK.has(e.code))) ||
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end|Query read timeout/i.test(
      e?.message ?? '',
    )
  ) {
    return new StoreUnavailableError(`PostgreSQL is unavailable: ${e?.message ?? e?.code ?? 'unknown error'}`);
  }
  return err;
}

/** How long a query may go unanswered before the store counts as unavailable (Pg's pool). */
export const QUERY_TIMEOUT_MS = 30_000;

/** A pool whose queries throw store-neutral errors, and a transaction helper over it. */
export class Pg {
  readonly pool: pg.Pool;

  constructor(url: string, opts: { max?: number; onError?: (err: Error) => void; queryTimeoutMs?: number } = {}) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: opts.max ?? 10,
      // Fail fast when the server is gone: the API answers 503 instead of hanging.
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30_000,
      // A server that stops answering on a connection already open (frozen, or cut off by a
      // partition) held every request on it with no end: now each query fails after this, as
      // unavailable, and its client is dropped. Far above any query here (a 375k-row count or a
      // task's delete take < 5 s); migrations set their own (schema.ts).
      query_timeout: opts.queryTimeoutMs ?? QUERY_TIMEOUT_MS,
      // A peer that is gone altogether is noticed by TCP, not only at the timeout.
      keepAlive: true,
    });
    // An idle client losing its server emits here; unhandled, it would take the process down.
    this.pool.on('error', (err) => opts.onError?.(err));
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (err) {
      throw mapPgError(err);
    }
  }

  /** The rows of a query as arrays, in its select list's order (result-record.ts fromRow): no object per row. */
  async queryArrays(text: string, values?: unknown[]): Promise<unknown[][]> {
    try {
      return (await this.pool.query<unknown[]>({ text, values, rowMode: 'array' })).rows;
    } catch (err) {
      throw mapPgError(err);
    }
  }

  /** Runs `fn` in one transaction on one client. */
  async tx<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw mapPgError(err);
    }
    let failed = false;
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      failed = true;
      throw mapPgError(err);
    } finally {
      // A client whose query failed (timed out, perhaps still running) is dropped, not pooled.
      client.release(failed);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
