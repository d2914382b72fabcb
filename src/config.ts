import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const intFrom = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

const flag = z
  .enum(['0', '1', 'true', 'false', ''])
  .default('0')
  .transform((v) => v === '1' || v === 'true');

/** A `sep`-separated list in one variable; blanks dropped. */
const list = (sep: string) =>
  z
    .string()
    .optional()
    .transform((v) =>
      (v ?? '')
        .split(sep)
        .map((s) => s.trim())
        .filter(Boolean),
    );

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Every environment variable the service reads, with its default (README "Configuration"), but VOICE_LIBRARY_NATIVE_IO, read where the scan threads load (native-io.ts). */
const EnvSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: intFrom(0, 65535).default(8006),
  DB_PATH: z.string().min(1).default('./data/voice-library.db'),
  SCAN_ROOTS: list(':').refine((roots) => roots.every((r) => path.isAbsolute(r)), 'every root must be an absolute path'),
  // A token of spaces would count as set (and so allow a non-loopback HOST) while no
  // Authorization header could carry it: the bearer value is trimmed (auth.ts).
  API_TOKEN: z
    .string()
    .optional()
    .refine((v) => !v || v.trim() === v, 'must not begin or end with whitespace (a bearer token is compared trimmed)')
    .transform((v) => (v ? v : undefined)),
  MAX_CONCURRENT_SCANS: intFrom(1, 64).default(2),
  MAX_QUEUED_SCANS: intFrom(0, 100_000).default(100),
  SCAN_WORKERS: intFrom(1, 256).default(Math.max(1, os.availableParallelism())),
  ALLOW_OPEN_ACCESS: flag,
  MAX_BODY_BYTES: intFrom(1).default(64 * 1024),
  MAX_FILES_PER_SCAN: intFrom(1).default(2_000_000),
  MAX_SSE_CLIENTS: intFrom(1).default(5000),
  MAX_SSE_CLIENTS_PER_TASK: intFrom(1).default(1000),
  MAX_AUDIO_CONVERSIONS: intFrom(1, 10_000).default(64),
  CORS_ORIGINS: list(',').refine((list) => list.every((o) => o === '*' || /^https?:\/\/[^/]+$/.test(o)), 'each origin must look like https://host[:port], or be *'),
  // The contract promises a ping at least every 15 s (proxies close idle streams).
  SSE_PING_MS: intFrom(10, 15_000).default(15_000),
  PROGRESS_INTERVAL_MS: intFrom(10, 60_000).default(100),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /** Development: check every response against the OpenAPI document (the test suite does). */
  CONTRACT_CHECK: flag,
  // Cluster mode (README "Cluster mode"): both set, or neither.
  REDIS_URL: z
    .string()
    .optional()
    .transform((v) => v || undefined)
    .refine((v) => v === undefined || /^rediss?:\/\//.test(v), 'must be a redis:// or rediss:// URL'),
  DATABASE_URL: z
    .string()
    .optional()
    .transform((v) => v || undefined)
    .refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// URL'),
  ROLE: z.enum(['api', 'worker', 'all'], { error: 'must be api, worker or all' }).default('all'),
  STALLED_TIMEOUT_S: intFrom(2, 3600).default(30),
  /** Namespace of this service's keys and channels in Redis, so that one Redis can serve several. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,40}$/, 'letters, digits, _ and - only')
    .default('vl'),
});

export type Config = z.output<typeof EnvSchema>;

/** Whether the service runs as part of a cluster (BullMQ on Redis, PostgreSQL). */
export const isCluster = (c: Config): c is Config & { REDIS_URL: string; DATABASE_URL: string } => Boolean(c.REDIS_URL && c.DATABASE_URL);

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment once; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const config = parsed.data;
  if (Boolean(config.REDIS_URL) !== Boolean(config.DATABASE_URL)) {
    const missing = config.REDIS_URL ? 'DATABASE_URL' : 'REDIS_URL';
    const given = config.REDIS_URL ? 'REDIS_URL' : 'DATABASE_URL';
    throw new ConfigError(
      `Cluster mode needs both REDIS_URL and DATABASE_URL: ${given} is set but ${missing} is not. Set ${missing}, or unset ${given} to run as one process on SQLite.`,
    );
  }
  // A cluster counts every task no worker has taken yet as queued, idle workers or not: with 0,
  // every scan would be refused (the single process counts only those waiting for a free slot).
  if (config.REDIS_URL && config.MAX_QUEUED_SCANS === 0) {
    throw new ConfigError('MAX_QUEUED_SCANS=0 refuses every scan in cluster mode, where a task is queued until a worker takes it: set it to 1 or more.');
  }
  if (config.ROLE !== 'all' && !config.REDIS_URL) {
    throw new ConfigError(`ROLE=${config.ROLE} needs cluster mode (REDIS_URL and DATABASE_URL); a single process is always ROLE=all.`);
  }
  // Like Redis's protected mode: an open bind with no way to limit what clients may read is refused.
  if (!LOOPBACK.has(config.HOST) && config.SCAN_ROOTS.length === 0 && !config.API_TOKEN && !config.ALLOW_OPEN_ACCESS) {
    throw new ConfigError(
      `Refusing to listen on non-loopback HOST=${config.HOST} with neither SCAN_ROOTS nor API_TOKEN set: ` +
        'any client could make this server read any directory on its disk. ' +
        'Set SCAN_ROOTS and/or API_TOKEN, or ALLOW_OPEN_ACCESS=1 to accept the risk.',
    );
  }
  return config;
}

/** Defaults for tests and embedding: the parsed empty environment plus overrides. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({}), ...overrides };
}
