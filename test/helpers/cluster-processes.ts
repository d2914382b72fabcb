import { randomBytes } from 'node:crypto';
import { onTestFinished } from 'vitest';
import type { TaskSnapshot } from '../../src/domain/task.ts';
import type { WorkerFaults } from '../../src/scan/types.ts';
import { startChildServer, type ChildServer } from './child-server.ts';
import { freshDatabaseUrl, sharedServers } from './shared-servers.ts';
import { parseFrames, type SSEFrame } from './sse.ts';

export const BASE = '/api/voice-library';

export interface Cluster {
  env: Record<string, string>;
  apis: ChildServer[];
  workers: ChildServer[];
  /** Starts one more process of the cluster with this role. */
  add(role: 'api' | 'worker' | 'all', extra?: Record<string, string>): Promise<ChildServer>;
}

/**
 * A cluster of real service processes (`src/index.ts`) on the run's Redis (or `redisUrl`) and a
 * fresh PostgreSQL database, under a Redis prefix of its own. Every process is killed when the
 * test ends.
 */
export async function startCluster(o: { apis: number; workers: number; env?: Record<string, string>; redisUrl?: string; faults?: WorkerFaults }): Promise<Cluster> {
  const env = {
    REDIS_URL: o.redisUrl ?? sharedServers().redisUrl,
    DATABASE_URL: await freshDatabaseUrl(),
    REDIS_PREFIX: `vlt-${randomBytes(4).toString('hex')}`,
    SCAN_WORKERS: '1',
    STALLED_TIMEOUT_S: '4',
    PROGRESS_INTERVAL_MS: '100',
    ...o.env,
  };
  const all: ChildServer[] = [];
  onTestFinished(() => {
    for (const p of all) p.proc.kill('SIGKILL');
  });
  const add = async (role: 'api' | 'worker' | 'all', extra: Record<string, string> = {}) => {
    const s = await startChildServer({ ...env, ROLE: role, ...extra }, role === 'api' ? {} : { faults: o.faults });
    all.push(s);
    return s;
  };
  // Started together: the schema is migrated safely by whichever process gets there first.
  const [apis, workers] = await Promise.all([Promise.all(Array.from({ length: o.apis }, () => add('api'))), Promise.all(Array.from({ length: o.workers }, () => add('worker')))]);
  return { env, apis, workers, add };
}

export async function postScan(server: ChildServer, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${server.url}${BASE}/scan-libritts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 202) throw new Error(`scan not accepted: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { task_id: string }).task_id;
}

export const status = async (server: ChildServer, id: string): Promise<TaskSnapshot> => (await fetch(`${server.url}${BASE}/scan-status/${id}`)).json() as Promise<TaskSnapshot>;

/** Polls until `pred` holds (or the task has ended); resolves with that snapshot. */
export async function pollUntil(server: ChildServer, id: string, pred: (s: TaskSnapshot) => boolean, timeoutMs = 60_000): Promise<TaskSnapshot> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await status(server, id);
    if (pred(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting on task ${id}: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const ended = (s: TaskSnapshot): boolean => ['completed', 'failed', 'cancelled'].includes(s.status);

/** Follows a task's SSE stream to its end; every frame, in order. */
export async function followEvents(server: ChildServer, id: string, headers: Record<string, string> = {}): Promise<{ status: number; frames: SSEFrame[] }> {
  const res = await fetch(`${server.url}${BASE}/scan-events/${id}`, { headers });
  return { status: res.status, frames: res.status === 200 ? parseFrames(await res.text()) : [] };
}

export const exportJsonl = async (server: ChildServer, id: string): Promise<string> => (await fetch(`${server.url}${BASE}/scan-results/${id}?format=jsonl`)).text();
