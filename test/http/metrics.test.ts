import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskSnapshot } from '../../src/domain/task.ts';
import { makeLibriTTSTree, type Tree } from '../helpers/libritts-tree.ts';
import { BASE, startTestService, type TestService } from '../helpers/service.ts';
import { readUntil } from '../helpers/sse.ts';

/** GET /metrics: Prometheus text that promtool accepts, and figures that move by the right amounts. */

let svc: TestService;
let tree: Tree;
beforeAll(async () => {
  svc = await startTestService();
  tree = makeLibriTTSTree(); // 18 good files and 3 corrupt ones (NOT_RIFF_WAVE, TRUNCATED ×2)
});
afterAll(async () => {
  await svc.close();
  tree.cleanup();
});

const scrape = async (s: TestService = svc) => {
  const res = await s.request('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
};

/** The value of one series (0 when absent). */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort();
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[3] ?? '').split(',').filter(Boolean).sort();
    if (want.every((w) => have.includes(w)) && have.length === want.length) return Number(m[4]);
  }
  return 0;
}

describe('GET /metrics', () => {
  it('passes promtool check metrics', async () => {
    const text = await scrape();
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (r.error) throw new Error(`promtool is needed for this test (apt-get install -y prometheus): ${r.error.message}`);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const name of [
      'vl_files_scanned_total',
      'vl_scanned_bytes_total',
      'vl_scan_duration_seconds',
      'vl_tasks',
      'vl_queue_depth',
      'vl_sse_streams_open',
      'vl_http_requests_total',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(text, name).toContain(`# TYPE ${name} `);
    }
  });

  it('counts a scan’s files by outcome, its bytes, its duration and its task', async () => {
    const before = await scrape();
    const id = await svc.startScan({ libritts_path: tree.root, analysis: 'full' });
    const done = (await svc.waitDone(id)) as TaskSnapshot;
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels);
    expect(delta('vl_files_scanned_total', { outcome: 'ok' })).toBe(tree.files.length);
    expect(delta('vl_files_scanned_total', { outcome: 'NOT_RIFF_WAVE' })).toBe(1);
    expect(delta('vl_files_scanned_total', { outcome: 'TRUNCATED' })).toBe(2);
    expect(delta('vl_scanned_bytes_total')).toBe(done.bytes_done);
    expect(delta('vl_scan_duration_seconds_count', { analysis: 'full', status: 'completed' })).toBe(1);
    expect(delta('vl_scan_files_per_second_count', { analysis: 'full' })).toBe(1);
    expect(value(after, 'vl_tasks', { status: 'completed' })).toBeGreaterThanOrEqual(1);
    // HTTP requests are labelled by route pattern, never by a path with an id in it.
    expect(value(after, 'vl_http_requests_total', { method: 'POST', route: `${BASE}/scan-libritts`, status: '202' })).toBeGreaterThanOrEqual(1);
    expect(after).not.toContain(id);
  });

  it('the open-streams gauge goes up with a stream and back down when it ends', async () => {
    const id = await svc.startScan({ libritts_path: tree.root, analysis: 'full' });
    const base = value(await scrape(), 'vl_sse_streams_open');
    const stream = await svc.request(`${BASE}/scan-events/${id}`);
    await readUntil(stream, (frames) => frames.some((f) => f.event === 'status')); // reads, then goes away
    const res2 = await svc.request(`${BASE}/scan-events/${id}`);
    const open = value(await scrape(), 'vl_sse_streams_open');
    expect(open).toBeGreaterThanOrEqual(base + 1);
    await res2.body!.cancel();
    await svc.waitDone(id);
    for (let i = 0; i < 50 && value(await scrape(), 'vl_sse_streams_open') > base; i++) await new Promise((r) => setTimeout(r, 20));
    expect(value(await scrape(), 'vl_sse_streams_open')).toBe(base);
  });

  it('needs the token when API_TOKEN is set', async () => {
    const guarded = await startTestService({ API_TOKEN: 'metrics-secret' });
    try {
      const denied = await guarded.request('/metrics');
      expect(denied.status).toBe(401);
      expect(await denied.json()).toMatchObject({ code: 'UNAUTHORIZED' });
      const ok = await guarded.request('/metrics', { headers: { authorization: 'Bearer metrics-secret' } });
      expect(ok.status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});
