import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { TaskSnapshot } from '../../src/domain/task.ts';
import { startPostgres, startRedis } from '../helpers/cluster-infra.ts';
import { BASE, ended, exportJsonl, pollUntil, postScan, startCluster, status } from '../helpers/cluster-processes.ts';
import { makeLibriTTSTree, type Tree } from '../helpers/libritts-tree.ts';
import { startTestService } from '../helpers/service.ts';

/** What a cluster survives: a worker killed or stopped, Redis or PostgreSQL going away. */

let tree: Tree;
let reference = '';

beforeAll(async () => {
  // Big enough that a scan is still going when its worker is killed: 1,200 files of 1 s.
  tree = makeLibriTTSTree({ subsets: { 'train-clean-100': 6, 'dev-clean': 4 }, chaptersPerSpeaker: 3, utterancesPerChapter: 40, durationS: 1, corrupt: false });
  const svc = await startTestService();
  const id = await svc.startScan({ libritts_path: tree.root, analysis: 'full' });
  await svc.waitDone(id);
  reference = await (await svc.request(`${BASE}/scan-results/${id}?format=jsonl`)).text();
  await svc.close();
});
afterAll(() => tree.cleanup());

const lines = (jsonl: string) => jsonl.trim().split('\n');

describe('cluster faults', () => {
  it('a worker killed with SIGKILL mid-scan: another takes over its parts, and the results equal an uninterrupted scan, without duplicates', async () => {
    const cluster = await startCluster({ apis: 1, workers: 2, env: { SCAN_WORKERS: '1' } });
    const api = cluster.apis[0]!;
    const id = await postScan(api, { libritts_path: tree.root, analysis: 'full' });
    await pollUntil(api, id, (s) => s.files_done >= 150 || ended(s));
    cluster.workers[0]!.proc.kill('SIGKILL');
    const final = await pollUntil(api, id, ended, 90_000);
    expect(final).toMatchObject({ status: 'completed', files_done: tree.files.length, files_failed: 0 });
    const jsonl = await exportJsonl(api, id);
    expect(new Set(lines(jsonl)).size).toBe(tree.files.length);
    expect(jsonl).toBe(reference);
  });

  it('a worker given SIGTERM hands its work back and exits in time; a new worker finishes the scan', async () => {
    const cluster = await startCluster({ apis: 1, workers: 1 });
    const api = cluster.apis[0]!;
    const id = await postScan(api, { libritts_path: tree.root, analysis: 'full' });
    await pollUntil(api, id, (s) => s.files_done >= 150 || ended(s));
    const t = performance.now();
    cluster.workers[0]!.proc.kill('SIGTERM');
    expect(await cluster.workers[0]!.exited).toEqual({ code: 0, signal: null });
    expect(performance.now() - t).toBeLessThan(5000);
    const midway = await status(api, id);
    expect(midway.status).toBe('running');
    await cluster.add('worker');
    const final = await pollUntil(api, id, ended, 60_000);
    expect(final.status).toBe('completed');
    expect(await exportJsonl(api, id)).toBe(reference);
  });

  it('Redis stopped mid-scan: POSTs get 503 QUEUE_UNAVAILABLE, reads still work; once it is back the scan completes, results equal', async () => {
    const redis = await startRedis();
    onTestFinished(() => redis.stop());
    const cluster = await startCluster({ apis: 1, workers: 2, redisUrl: redis.url });
    const api = cluster.apis[0]!;
    const id = await postScan(api, { libritts_path: tree.root, analysis: 'full' });
    await pollUntil(api, id, (s) => s.files_done >= 100 || ended(s));
    await redis.stop(); // without persistence: every job and lock in Redis is gone for good
    const refused = await fetch(`${api.url}${BASE}/scan-libritts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ libritts_path: tree.root }),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toMatchObject({ code: 'QUEUE_UNAVAILABLE' });
    expect((await fetch(`${api.url}${BASE}/scan-status/${id}`)).status).toBe(200); // PostgreSQL answers
    expect(((await (await fetch(`${api.url}/healthz`)).json()) as { status: string }).status).toBe('ok');
    await new Promise((r) => setTimeout(r, 1500));
    await redis.start();
    const final = await pollUntil(api, id, ended, 90_000);
    expect(final.status).toBe('completed');
    expect(await exportJsonl(api, id)).toBe(reference);
    // And it takes new work again, once its own connection is back: a POST in between is told to
    // retry (503, Retry-After), as during the outage. The workers may finish the scan first.
    let again = '';
    for (const deadline = Date.now() + 10_000; !again;) {
      again = await postScan(api, { libritts_path: tree.root, analysis: 'header' }).catch((err: Error) => {
        if (!/503/.test(err.message) || Date.now() > deadline) throw err;
        return new Promise<string>((r) => setTimeout(() => r(''), 250));
      });
    }
    expect((await pollUntil(api, again, ended)).status).toBe('completed');
  });

  it('PostgreSQL stopped: reads and POSTs get 503 STORE_UNAVAILABLE, the processes stay up, and serve again once it is back', async () => {
    const postgres = await startPostgres();
    onTestFinished(() => postgres.dispose());
    const cluster = await startCluster({ apis: 1, workers: 1, env: { DATABASE_URL: await postgres.freshDatabase() } });
    const api = cluster.apis[0]!;
    const id = await postScan(api, { libritts_path: tree.root, analysis: 'header' });
    await pollUntil(api, id, ended);
    await postgres.stop();
    for (const res of [
      await fetch(`${api.url}${BASE}/scan-status/${id}`),
      await fetch(`${api.url}${BASE}/scan-libritts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ libritts_path: tree.root }) }),
    ]) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    }
    expect(((await (await fetch(`${api.url}/healthz`)).json()) as { status: string }).status).toBe('degraded');
    await postgres.start();
    const back = await pollUntil(api, id, () => true, 30_000).catch(() => null);
    expect((back as TaskSnapshot | null)?.status).toBe('completed');
    const again = await postScan(api, { libritts_path: tree.root, analysis: 'header' });
    expect((await pollUntil(api, again, ended)).status).toBe('completed');
    expect(cluster.apis.concat(cluster.workers).every((p) => p.proc.exitCode === null)).toBe(true);
  });
});

describe('cluster configuration', () => {
  const start = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      env: { ...process.env, PORT: '0', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });

  it('one of REDIS_URL and DATABASE_URL without the other refuses to start, naming the missing one', () => {
    const onlyRedis = start({ REDIS_URL: 'redis://127.0.0.1:1/0' });
    expect(onlyRedis.status).toBe(78);
    expect(onlyRedis.stderr).toMatch(/REDIS_URL is set but DATABASE_URL is not/);
    const onlyDb = start({ DATABASE_URL: 'postgres://x@127.0.0.1:1/x' });
    expect(onlyDb.status).toBe(78);
    expect(onlyDb.stderr).toMatch(/DATABASE_URL is set but REDIS_URL is not/);
    const worker = start({ ROLE: 'worker' });
    expect(worker.status).toBe(78);
    expect(worker.stderr).toMatch(/ROLE=worker needs cluster mode/);
  });
});
