import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { TaskSnapshot } from '../../src/domain/task.ts';
import { BASE, ended, exportJsonl, followEvents, pollUntil, postScan, startCluster, status } from '../helpers/cluster-processes.ts';
import { ageTree, makeLibriTTSTree, tempDir, type Tree } from '../helpers/libritts-tree.ts';
import { startTestService } from '../helpers/service.ts';
import { parseFrames } from '../helpers/sse.ts';
import { toneWav } from '../helpers/wav.ts';

/**
 * Cluster mode with real processes on a real Redis and PostgreSQL: any API process serves any
 * task, the scan spreads over the workers, and the results are the single process's.
 */

let tree: Tree;
/** The same tree scanned by the single process: what every cluster scan must equal. */
const single = { jsonl: '', summary: null as TaskSnapshot['summary'], speakers: '' };

beforeAll(async () => {
  tree = makeLibriTTSTree({ subsets: { 'dev-clean': 4, 'test-clean': 3 }, chaptersPerSpeaker: 2, utterancesPerChapter: 12 });
  // Files above the speaker folders: the cluster's "loose" parts.
  fs.writeFileSync(path.join(tree.root, 'loose-at-root.wav'), toneWav({ durationS: 0.2 }));
  fs.writeFileSync(path.join(tree.root, 'dev-clean', 'loose-in-subset.wav'), toneWav({ durationS: 0.3 }));
  // Settled files: a rescan may reuse them (src/scan/racy.ts).
  ageTree(tree.root);
  const svc = await startTestService();
  const id = await svc.startScan({ libritts_path: tree.root, analysis: 'full' });
  single.summary = (await svc.waitDone(id)).summary;
  single.jsonl = await (await svc.request(`${BASE}/scan-results/${id}?format=jsonl`)).text();
  single.speakers = JSON.stringify(((await (await svc.request(`${BASE}/scan-speakers/${id}`)).json()) as { items: unknown[] }).items);
  await svc.close();
});
afterAll(() => tree.cleanup());

describe('cluster: two API processes, two workers', () => {
  it('POST on A, SSE on B to the end, polling on A: the results equal the single process’s, and both workers took parts', async () => {
    const cluster = await startCluster({ apis: 2, workers: 2 });
    const [a, b] = cluster.apis as [(typeof cluster.apis)[0], (typeof cluster.apis)[0]];
    const id = await postScan(a, { libritts_path: tree.root, analysis: 'full' });
    const [events, polled] = await Promise.all([followEvents(b, id), pollUntil(a, id, ended)]);

    expect(events.status).toBe(200);
    const frames = events.frames.filter((f) => f.event);
    expect(events.frames[0]).toEqual({ retry: '2000' });
    expect(frames[0]!.event).toBe('status');
    expect(frames.at(-1)!.event).toBe('completed');
    expect(frames.filter((f) => ['completed', 'failed', 'cancelled'].includes(f.event!))).toHaveLength(1);
    const ids = frames.slice(1).map((f) => Number(f.id));
    for (let i = 1; i < ids.length; i++) expect(ids[i]!).toBeGreaterThan(ids[i - 1]!);

    expect(polled).toMatchObject({ status: 'completed', files_total: tree.files.length + tree.corrupt.size + 2, files_failed: tree.corrupt.size });
    expect(polled.summary).toEqual(single.summary);
    expect(JSON.parse(frames.at(-1)!.data!)).toEqual(await status(b, id));
    for (const api of [a, b]) {
      expect(await exportJsonl(api, id)).toBe(single.jsonl);
      expect(JSON.stringify(((await (await fetch(`${api.url}${BASE}/scan-speakers/${id}`)).json()) as { items: unknown[] }).items)).toBe(single.speakers);
    }
    // The parts spread over both workers.
    const db = new pg.Client({ connectionString: cluster.env.DATABASE_URL });
    await db.connect();
    onTestFinished(() => db.end());
    const { rows } = await db.query<{ workers: number; parts: number }>(
      'SELECT COUNT(DISTINCT worker)::int AS workers, COUNT(*)::int AS parts FROM task_parts WHERE task_id = $1',
      [id],
    );
    expect(rows[0]!.parts).toBeGreaterThan(7);
    expect(rows[0]!.workers).toBe(2);
    // The summary was made once, by one coordinator.
    const finalizing = await db.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM events WHERE task_id = $1 AND snapshot LIKE '%"phase":"finalizing"%'`, [id]);
    expect(finalizing.rows[0]!.n).toBe(1);
    // Finished jobs are gone from Redis: PostgreSQL holds everything.
    const redis = new Redis(cluster.env.REDIS_URL!, { maxRetriesPerRequest: null });
    onTestFinished(() => void redis.disconnect());
    for (const name of ['scan', 'scan-part']) {
      const q = new Queue(name, { connection: redis, prefix: cluster.env.REDIS_PREFIX });
      const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
      expect(counts, name).toEqual({ waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 });
      await q.close();
    }
  });

  it('a rescan copies the rows of unchanged files part by part on the workers, and reads the changed one', async () => {
    const cluster = await startCluster({ apis: 1, workers: 2 });
    const [a] = cluster.apis;
    const total = tree.files.length + tree.corrupt.size + 2;
    const first = await pollUntil(a!, await postScan(a!, { libritts_path: tree.root, analysis: 'full' }), ended);
    expect(first).toMatchObject({ status: 'completed', files_reused: 0 });
    const again = await pollUntil(a!, await postScan(a!, { libritts_path: tree.root, analysis: 'full' }), ended);
    expect(again).toMatchObject({ status: 'completed', files_done: total, files_reused: total, bytes_done: 0 });
    expect(again.summary).toEqual({ ...single.summary, files_reused: total });
    expect(await exportJsonl(a!, again.task_id)).toBe(single.jsonl);
    // One file touched: only it is read again (its row is the same).
    const touched = path.join(tree.root, tree.files[5]!.rel);
    const t = new Date(Date.now() - 120_000);
    fs.utimesSync(touched, t, t);
    const third = await pollUntil(a!, await postScan(a!, { libritts_path: tree.root, analysis: 'full' }), ended);
    expect(third).toMatchObject({ status: 'completed', files_done: total, files_reused: total - 1, bytes_done: fs.statSync(touched).size });
    expect(await exportJsonl(a!, third.task_id)).toBe(single.jsonl);
  });

  it('replays after Last-Event-ID on any process, ids never go backwards, and 204 past the end everywhere', async () => {
    const cluster = await startCluster({ apis: 2, workers: 1 });
    const [a, b] = cluster.apis as [(typeof cluster.apis)[0], (typeof cluster.apis)[0]];
    const id = await postScan(a, { libritts_path: tree.root, analysis: 'full' });
    // Read part of the stream on B, drop it, reconnect on A with the last id seen.
    const res = await fetch(`${b.url}${BASE}/scan-events/${id}`);
    const reader = res.body!.getReader();
    let text = '';
    while (parseFrames(text.slice(0, text.lastIndexOf('\n\n') + 2)).filter((f) => f.event).length < 2) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const seen = parseFrames(text.slice(0, text.lastIndexOf('\n\n') + 2)).filter((f) => f.id);
    const lastSeen = Number(seen.at(-1)!.id);
    const resumed = await followEvents(a, id, { 'Last-Event-ID': String(lastSeen) });
    const ids = resumed.frames.filter((f) => f.event).map((f) => Number(f.id));
    expect(ids[0]).toBeGreaterThanOrEqual(lastSeen);
    for (let i = 1; i < ids.length; i++) expect(ids[i]!).toBeGreaterThan(ids[i - 1]!);
    expect(resumed.frames.filter((f) => f.event).at(-1)!.event).toBe('completed');
    const terminalId = ids.at(-1)!;
    // Every process serves the same ids: the same terminal id, so the 204 rule holds everywhere.
    for (const api of [a, b]) {
      const replay = await followEvents(api, id, { 'Last-Event-ID': '1' });
      expect(replay.frames.filter((f) => f.event).map((f) => [f.event, Number(f.id)])).toEqual([
        ['status', terminalId - 1],
        ['completed', terminalId],
      ]);
      expect((await fetch(`${api.url}${BASE}/scan-events/${id}`, { headers: { 'Last-Event-ID': String(terminalId) } })).status).toBe(204);
      expect((await fetch(`${api.url}${BASE}/scan-events/${id}?last_event_id=${terminalId + 5}`)).status).toBe(204);
    }
  });

  it('a cancel through the other API process stops the scan on every worker within 2 s and frees them', async () => {
    const big = makeLibriTTSTree({ subsets: { 'train-clean-100': 6 }, chaptersPerSpeaker: 2, utterancesPerChapter: 40, corrupt: false });
    onTestFinished(big.cleanup);
    // One file blocks its worker's read until the FIFO is written: the scan can only end by the cancel.
    const fifo = path.join(tempDir('vl-fifo-'), 'hang');
    execFileSync('mkfifo', [fifo]);
    fs.writeFileSync(path.join(big.root, 'train-clean-100', big.files[0]!.speaker, big.files[0]!.chapter, 'hang.wav'), toneWav());
    const cluster = await startCluster({ apis: 2, workers: 2, faults: { hangOn: { suffix: 'hang.wav', fifo } } });
    const [a, b] = cluster.apis as [(typeof cluster.apis)[0], (typeof cluster.apis)[0]];
    const id = await postScan(a, { libritts_path: big.root, analysis: 'full' });
    await pollUntil(a, id, (s) => s.files_done > 100 || ended(s));
    const t = performance.now();
    const res = await fetch(`${b.url}${BASE}/scan-cancel/${id}`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as TaskSnapshot).status).toBe('cancelled');
    expect(performance.now() - t).toBeLessThan(2500);
    // Both workers let go of the task's parts, and nothing more is recorded.
    const deadline = Date.now() + 2000;
    let running = -1;
    while (Date.now() < deadline) {
      const health = await Promise.all(cluster.workers.map(async (w) => ((await (await fetch(`${w.url}/healthz`)).json()) as { running: number }).running));
      running = health.reduce((x, y) => x + y, 0);
      if (running === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(running).toBe(0);
    const rows = (await exportJsonl(a, id)).split('\n').length;
    await new Promise((r) => setTimeout(r, 500));
    expect((await exportJsonl(a, id)).split('\n').length).toBe(rows);
    expect(rows - 1).toBeLessThan(big.files.length);
    // A cancel of a task that has ended is refused, by any process.
    expect((await fetch(`${a.url}${BASE}/scan-cancel/${id}`, { method: 'POST' })).status).toBe(409);
  });

  it('an API process killed mid-stream: its SSE client reconnects to another with Last-Event-ID and still sees the end', async () => {
    const fifo = path.join(tempDir('vl-fifo-'), 'hang');
    execFileSync('mkfifo', [fifo]);
    const slow = makeLibriTTSTree({ subsets: { 'dev-clean': 2 }, chaptersPerSpeaker: 1, utterancesPerChapter: 10, corrupt: false });
    onTestFinished(slow.cleanup);
    fs.writeFileSync(path.join(slow.root, 'dev-clean', slow.files[0]!.speaker, slow.files[0]!.chapter, 'hang.wav'), toneWav());
    const cluster = await startCluster({ apis: 2, workers: 1, faults: { hangOn: { suffix: 'hang.wav', fifo } } });
    const [a, b] = cluster.apis as [(typeof cluster.apis)[0], (typeof cluster.apis)[0]];
    const id = await postScan(a, { libritts_path: slow.root, analysis: 'full' });
    const res = await fetch(`${a.url}${BASE}/scan-events/${id}`);
    const reader = res.body!.getReader();
    let text = '';
    while (parseFrames(text.slice(0, text.lastIndexOf('\n\n') + 2)).filter((f) => f.event).length < 2) text += new TextDecoder().decode((await reader.read()).value);
    a.proc.kill('SIGKILL');
    await a.exited;
    // The connection is gone: the stream errors (or ends) without a terminal event.
    expect(
      await reader.read().then(
        (r) => r.done,
        () => true,
      ),
    ).toBe(true);
    const lastSeen = Number(
      parseFrames(text.slice(0, text.lastIndexOf('\n\n') + 2))
        .filter((f) => f.id)
        .at(-1)!.id,
    );
    const release = spawn('sh', ['-c', 'echo go > "$0"', fifo]); // the scan can now finish
    onTestFinished(() => void release.kill());
    const resumed = await followEvents(b, id, { 'Last-Event-ID': String(lastSeen) });
    const evs = resumed.frames.filter((f) => f.event);
    expect(evs.at(-1)!.event).toBe('completed');
    for (const f of evs) expect(Number(f.id)).toBeGreaterThanOrEqual(lastSeen);
  });

  it('queued tasks are counted cluster-wide: past MAX_QUEUED_SCANS every API process answers 429', async () => {
    const cluster = await startCluster({ apis: 2, workers: 0, env: { MAX_QUEUED_SCANS: '2' } });
    const [a, b] = cluster.apis as [(typeof cluster.apis)[0], (typeof cluster.apis)[0]];
    await postScan(a, { libritts_path: tree.root });
    await postScan(b, { libritts_path: tree.root });
    for (const api of [a, b]) {
      const res = await fetch(`${api.url}${BASE}/scan-libritts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ libritts_path: tree.root }),
      });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBeTruthy();
      expect(await res.json()).toMatchObject({ code: 'TOO_MANY_TASKS' });
    }
    // A worker joining takes the queued tasks.
    const w = await cluster.add('worker');
    const ids = ((await (await fetch(`${a.url}${BASE}/scans`)).json()) as { items: TaskSnapshot[] }).items.map((s) => s.task_id);
    for (const id of ids) expect((await pollUntil(a, id, ended)).status).toBe('completed');
    expect(((await (await fetch(`${w.url}/healthz`)).json()) as { role: string }).role).toBe('worker');
  });
});
