import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskSnapshot } from '../src/domain/task.ts';
import { makeLibriTTSTree, type Tree } from './helpers/libritts-tree.ts';
import { BASE, startTestService, type TestService } from './helpers/service.ts';
import { readUntil } from './helpers/sse.ts';

const SCANS = 20;
const SSE_CLIENTS = 50;
const POLLERS = 20;

/** mulberry32: a seeded PRNG, so a failing soak can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let svc: TestService;
let server: ServerType;
let url: string;
let trees: Tree[];

beforeAll(async () => {
  svc = await startTestService({ MAX_CONCURRENT_SCANS: 2, SSE_PING_MS: 200, PROGRESS_INTERVAL_MS: 20 });
  server = serve({ fetch: svc.app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((r) => server.once('listening', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  trees = [makeLibriTTSTree({ subsets: { a: 10, b: 6 }, utterancesPerChapter: 25 }), makeLibriTTSTree({ subsets: { c: 12 }, utterancesPerChapter: 30 })];
});
afterAll(async () => {
  (server as unknown as { closeAllConnections(): void }).closeAllConnections();
  await new Promise((r) => server.close(r));
  await svc.close();
  for (const t of trees) t.cleanup();
});

/** An SSE client over a real socket: reads to the end, or leaves after `leaveAfter` events. */
async function sseClient(taskId: string, leaveAfter: number | null) {
  const res = await fetch(`${url}${BASE}/scan-events/${taskId}`);
  if (res.status !== 200) return { status: res.status, events: [] as { event: string; id: number }[], complete: false };
  const frames = await readUntil(res, (f) => leaveAfter !== null && f.filter((x) => x.event).length >= leaveAfter);
  const events = frames.filter((f) => f.event).map((f) => ({ event: f.event!, id: Number(f.id) }));
  return { status: 200, events, complete: leaveAfter === null };
}

async function poller(taskId: string) {
  let etag: string | null = null;
  let snap: TaskSnapshot | null = null;
  for (let i = 0; i < 2000; i++) {
    const res: Response = await fetch(`${url}${BASE}/scan-status/${taskId}`, { headers: etag ? { 'If-None-Match': etag } : {} });
    if (res.status === 200) {
      etag = res.headers.get('etag');
      snap = (await res.json()) as TaskSnapshot;
      if (['completed', 'failed', 'cancelled'].includes(snap.status)) return snap;
    } else expect(res.status).toBe(304);
    await sleep(25);
  }
  throw new Error(`poller gave up on ${taskId}`);
}

describe('soak', () => {
  it(`${SCANS} scans, ${SSE_CLIENTS} SSE clients and ${POLLERS} pollers coming and going, some cancels: nothing leaks`, async () => {
    const random = rng(20261128);
    // Warm up once so the baseline includes the worker threads and SQLite caches.
    await svc.waitDone(await svc.startScan({ libritts_path: trees[0]!.root, analysis: 'full' }));
    const rssStart = process.memoryUsage().rss;
    const workers = svc.pool.size;

    const ids: string[] = [];
    for (let i = 0; i < SCANS; i++) {
      ids.push(await svc.startScan({ libritts_path: trees[i % 2]!.root, analysis: random() < 0.5 ? 'header' : 'full' }));
    }
    const pick = () => ids[Math.floor(random() * ids.length)]!;
    const clients = Array.from({ length: SSE_CLIENTS }, async () => {
      await sleep(random() * 1500);
      const id = pick();
      const stays = random() < 0.6;
      return { id, ...(await sseClient(id, stays ? null : 1 + Math.floor(random() * 3))) };
    });
    const polls = Array.from({ length: POLLERS }, async () => {
      await sleep(random() * 1500);
      return poller(pick());
    });
    // Cancellers act like a user: pick a scan that is still waiting or running, and cancel it.
    const cancels = Array.from({ length: 5 }, async (_, i) => {
      await sleep(100 + i * 150);
      const { items } = (await (await fetch(`${url}${BASE}/scans?limit=50`)).json()) as { items: TaskSnapshot[] };
      const active = items.filter((t) => ids.includes(t.task_id) && (t.status === 'queued' || t.status === 'running'));
      if (!active.length) return;
      const res = await fetch(`${url}${BASE}/scan-cancel/${active[Math.floor(random() * active.length)]!.task_id}`, { method: 'POST' });
      expect([200, 202, 409]).toContain(res.status);
    });

    const [clientResults, pollResults] = await Promise.all([Promise.all(clients), Promise.all(polls), Promise.all(cancels)]);
    const finals = await Promise.all(ids.map((id) => svc.waitDone(id)));

    expect(finals.every((s) => s.status === 'completed' || s.status === 'cancelled')).toBe(true);
    expect(finals.some((s) => s.status === 'cancelled')).toBe(true);
    expect(pollResults.every((s) => ['completed', 'cancelled'].includes(s.status))).toBe(true);
    for (const c of clientResults) {
      expect(c.status).toBe(200);
      if (!c.complete) continue;
      const terminal = c.events.filter((e) => ['completed', 'failed', 'cancelled'].includes(e.event));
      expect(terminal, `client of ${c.id}`).toHaveLength(1);
      expect(c.events[c.events.length - 1]).toBe(terminal[0]);
      expect(terminal[0]!.event).toBe(finals[ids.indexOf(c.id)]!.status);
      for (let i = 1; i < c.events.length; i++) expect(c.events[i]!.id).toBeGreaterThanOrEqual(c.events[i - 1]!.id);
    }
    expect(clientResults.filter((c) => c.complete).length).toBeGreaterThan(SSE_CLIENTS / 3);

    // Nothing left behind: listeners, busy or missing workers, memory.
    for (let i = 0; i < 50 && svc.events.listenerCount() > 0; i++) await sleep(20);
    expect(svc.events.listenerCount()).toBe(0);
    expect(svc.pool.busy).toBe(0);
    expect(svc.pool.size).toBe(workers);
    expect(await svc.queue.depth()).toEqual({ queued: 0, running: 0 });
    const rssEnd = process.memoryUsage().rss;
    expect(rssEnd - rssStart).toBeLessThan(150 * 1024 * 1024);
  });
});
