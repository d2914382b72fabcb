import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { TaskEvent, TaskSnapshot } from '../../src/domain/task.ts';
import { WRITE_GATE } from '../../src/store/sqlite/write-gate.ts';
import { makeFlatTree, makeLibriTTSTree, type Tree } from '../helpers/libritts-tree.ts';
import { BASE, startTestService, type TestService } from '../helpers/service.ts';

let svc: TestService;
let tree: Tree;

beforeAll(async () => {
  svc = await startTestService();
  tree = makeLibriTTSTree();
});
afterAll(async () => {
  await svc.close();
  tree.cleanup();
});

describe('POST /scan-libritts', () => {
  it('answers 202 with the task links before discovery ends, on a 2,000-file tree', async () => {
    const flat = makeFlatTree(2000);
    const order: string[] = [];
    const onEvent = (e: TaskEvent) => order.push(`${e.snapshot.status}/${e.snapshot.phase ?? '-'}`);
    const offAll = svc.events.onAny(onEvent);
    const res = await svc.post(`${BASE}/scan-libritts`, { libritts_path: flat.root, analysis: 'header' });
    order.push('RESPONSE');
    expect(res.status).toBe(202);
    const body = (await res.json()) as Record<string, string>;
    expect(body).toEqual({
      task_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: 'accepted',
      message: 'Scan started in background. Use task_id to check status.',
      status_url: `${BASE}/scan-status/${body.task_id}`,
      events_url: `${BASE}/scan-events/${body.task_id}`,
      results_url: `${BASE}/scan-results/${body.task_id}`,
    });
    expect(res.headers.get('location')).toBe(body.status_url);
    const done = await svc.waitDone(body.task_id!);
    offAll();
    expect(done.status).toBe('completed');
    expect(done.files_total).toBe(2000);
    // The answer came while the task was queued or discovering: no later state preceded it.
    const before = order.slice(0, order.indexOf('RESPONSE'));
    for (const s of before) expect(['queued/-', 'running/discovering']).toContain(s);
    expect(order.slice(order.indexOf('RESPONSE'))).toContain('running/processing');
    flat.cleanup();
  });

  it('scans a LibriTTS tree: results, transcripts, per-file errors, summary and speakers', async () => {
    const id = await svc.startScan({ libritts_path: tree.root, analysis: 'full' });
    const done = await svc.waitDone(id);
    const total = tree.files.length + tree.corrupt.size;
    expect(done).toMatchObject({ status: 'completed', progress: 100, files_total: total, files_done: total, files_failed: tree.corrupt.size, error: null });
    expect(done.summary).toEqual({
      utterances: tree.files.length,
      failed: tree.corrupt.size,
      speakers: tree.speakers.size,
      duration_s: expect.any(Number),
      sample_rates: { '24000': tree.files.length },
      subsets: { 'dev-clean': expect.any(Number), 'test-clean': expect.any(Number) },
      files_reused: 0,
      duration_histogram: { bin_s: 1, counts: [tree.files.length] }, // every clip is under a second
    });
    const res = await svc.request(`${BASE}/scan-results/${id}?limit=1000`);
    const { items } = (await res.json()) as { items: Record<string, unknown>[] };
    expect(items).toHaveLength(total);
    const good = tree.files[0]!;
    const row = items.find((r) => r.path === good.rel)!;
    expect(row).toMatchObject({
      subset: good.subset,
      speaker_id: good.speaker,
      chapter_id: good.chapter,
      utterance_id: good.utterance,
      text_normalized: good.text,
      text_original: good.text.toUpperCase(),
      sample_rate: 24000,
      channels: 1,
      bits_per_sample: 16,
      encoding: 'pcm_s16le',
      error: null,
    });
    expect(row.peak_dbfs).toBeCloseTo(-10.46, 1); // amplitude 0.3
    expect(row.leading_silence_s).toBeCloseTo(0.01, 2);
    for (const [rel, code] of tree.corrupt) {
      const bad = items.find((r) => r.path === rel)!;
      expect(bad.error, rel).toMatchObject({ code });
    }
    expect(items.some((r) => String(r.path).includes('/._'))).toBe(false);

    const sp = (await (await svc.request(`${BASE}/scan-speakers/${id}`)).json()) as { items: Record<string, unknown>[] };
    expect(sp.items).toHaveLength(tree.speakers.size);
    const s100 = sp.items.find((s) => s.speaker_id === '100')!;
    expect(s100).toMatchObject({ name: 'Reader 100', gender: 'F', subsets: ['dev-clean'], failed: tree.corrupt.size });
    expect(sp.items.find((s) => s.speaker_id === '101')!.name).toBeNull();
  });

  it('scans only the requested subsets', async () => {
    const id = await svc.startScan({ libritts_path: tree.root, analysis: 'header', subsets: ['test-clean'] });
    const done = await svc.waitDone(id);
    expect(done.files_total).toBe(tree.files.filter((f) => f.subset === 'test-clean').length);
    expect(done.summary!.subsets).toEqual({ 'test-clean': done.files_total });
  });

  it('a tree that is not LibriTTS still scans, with null ids', async () => {
    const flat = makeLibriTTSTree({ subsets: { x: 1 }, chaptersPerSpeaker: 1, utterancesPerChapter: 1, corrupt: false });
    const fs = await import('node:fs');
    fs.copyFileSync(`${flat.root}/${flat.files[0]!.rel}`, `${flat.root}/hello.wav`);
    const id = await svc.startScan({ libritts_path: flat.root, analysis: 'header' });
    await svc.waitDone(id);
    const { items } = (await (await svc.request(`${BASE}/scan-results/${id}`)).json()) as { items: Record<string, unknown>[] };
    expect(items.find((r) => r.path === 'hello.wav')).toMatchObject({ subset: null, speaker_id: null, utterance_id: null, error: null, frames: expect.any(Number) });
    flat.cleanup();
  });
});

describe('GET /scan-status', () => {
  it('is a no-store snapshot with an ETag that answers If-None-Match with 304', async () => {
    const id = await svc.startScan({ libritts_path: tree.root, analysis: 'header' });
    await svc.waitDone(id);
    const res = await svc.request(`${BASE}/scan-status/${id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('retry-after')).toBeNull();
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    const snap = (await res.json()) as TaskSnapshot;
    expect(Object.keys(snap).sort()).toEqual(
      [
        'task_id',
        'status',
        'phase',
        'progress',
        'message',
        'libritts_path',
        'analysis',
        'subsets',
        'files_total',
        'files_done',
        'files_failed',
        'files_reused',
        'bytes_done',
        'files_per_s',
        'eta_s',
        'created_at',
        'started_at',
        'finished_at',
        'error',
        'summary',
      ].sort(),
    );
    expect(new Date(snap.finished_at!).toISOString()).toBe(snap.finished_at);
    const again = await svc.request(`${BASE}/scan-status/${id}`, { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    const other = await svc.request(`${BASE}/scan-status/${id}`, { headers: { 'If-None-Match': '"stale"' } });
    expect(other.status).toBe(200);
  });

  it('says Retry-After: 1 while the task is active, and its ETag changes as it advances', async () => {
    const flat = makeFlatTree(1500);
    const id = await svc.startScan({ libritts_path: flat.root, analysis: 'full' });
    const first = await svc.request(`${BASE}/scan-status/${id}`);
    expect(first.headers.get('retry-after')).toBe('1');
    await svc.waitDone(id);
    const last = await svc.request(`${BASE}/scan-status/${id}`);
    expect(last.headers.get('etag')).not.toBe(first.headers.get('etag'));
    flat.cleanup();
  });
});

describe('GET /scans, cancel and delete', () => {
  it('lists tasks newest first and filters by status', async () => {
    const a = await svc.startScan({ libritts_path: tree.root, analysis: 'header' });
    await svc.waitDone(a);
    const b = await svc.startScan({ libritts_path: tree.root, analysis: 'header' });
    await svc.waitDone(b);
    const { items } = (await (await svc.request(`${BASE}/scans?limit=2`)).json()) as { items: TaskSnapshot[] };
    expect(items.map((t) => t.task_id)).toEqual([b, a]);
    const done = (await (await svc.request(`${BASE}/scans?status=completed`)).json()) as { items: TaskSnapshot[] };
    expect(done.items.every((t) => t.status === 'completed')).toBe(true);
    const none = (await (await svc.request(`${BASE}/scans?status=cancelled`)).json()) as { items: TaskSnapshot[] };
    expect(none.items.every((t) => t.status === 'cancelled')).toBe(true);
  });

  it('cancel while running ends in `cancelled` and frees the workers for the next task', async () => {
    const flat = makeFlatTree(3000);
    const id = await svc.startScan({ libritts_path: flat.root, analysis: 'full' });
    await new Promise<void>((resolve) => {
      const off = svc.events.subscribe(id, (e) => {
        if (e.snapshot.phase === 'processing' && e.snapshot.files_done > 0) {
          off();
          resolve();
        }
      });
    });
    const res = await svc.request(`${BASE}/scan-cancel/${id}`, { method: 'POST' });
    expect(res.status).toBe(200);
    const snap = (await res.json()) as TaskSnapshot;
    expect(snap.status).toBe('cancelled');
    expect(snap.files_done).toBeLessThan(3000);
    expect(svc.pool.busy).toBe(0);
    // The next task runs to the end on the same pool.
    const next = await svc.startScan({ libritts_path: tree.root, analysis: 'full' });
    expect((await svc.waitDone(next)).status).toBe('completed');
    // A finished task cannot be cancelled again.
    const again = await svc.request(`${BASE}/scan-cancel/${id}`, { method: 'POST' });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: 'TASK_NOT_ACTIVE' });
    flat.cleanup();
  });

  it('a cancelled task counts every row it holds: files_done and files_failed are those of its results (a batch recorded but not yet reported included)', async () => {
    const flat = makeFlatTree(3000);
    onTestFinished(flat.cleanup);
    for (let round = 0; round < 4; round++) {
      const id = await svc.startScan({ libritts_path: flat.root, analysis: 'full', reuse: 'none' });
      await new Promise<void>((resolve) => {
        const off = svc.events.subscribe(id, (e) => {
          if (e.snapshot.files_done > 0) (off(), resolve());
        });
      });
      expect((await svc.request(`${BASE}/scan-cancel/${id}`, { method: 'POST' })).status).toBe(200);
      const snap = await svc.waitDone(id);
      expect(snap.status).toBe('cancelled');
      const { total } = (await (await svc.request(`${BASE}/scan-results/${id}?limit=1`)).json()) as { total: number };
      const failed = (await (await svc.request(`${BASE}/scan-results/${id}?limit=1&only=failed`)).json()) as { total: number };
      expect([snap.files_done, snap.files_failed], `round ${round}`).toEqual([total, failed.total]);
      expect((await (await svc.request(`${BASE}/scan-status/${id}`)).json()) as TaskSnapshot).toMatchObject({ files_done: total });
    }
  });

  it('deletes an ended task while another scan records its rows (it was a 500 "database is locked" when a scan thread committed between the delete\'s read and write)', async () => {
    const local = await startTestService({ MAX_CONCURRENT_SCANS: 1 });
    onTestFinished(async () => void (await local.close()));
    const flat = makeFlatTree(3000);
    onTestFinished(flat.cleanup);
    for (let round = 0; round < 4; round++) {
      const old = await local.startScan({ libritts_path: flat.root, analysis: 'header', reuse: 'none' });
      await local.waitDone(old);
      const busy = await local.startScan({ libritts_path: flat.root, analysis: 'full', reuse: 'none' });
      await new Promise<void>((resolve) => {
        const off = local.events.subscribe(busy, (e) => {
          if (e.snapshot.files_done > 0) (off(), resolve());
        });
      });
      const res = await local.request(`${BASE}/scans/${old}`, { method: 'DELETE' });
      expect(res.status, `round ${round}: ${res.status === 204 ? '' : await res.text()}`).toBe(204);
      expect((await local.request(`${BASE}/scan-status/${old}`)).status).toBe(404);
      expect((await local.waitDone(busy)).status).toBe('completed');
    }
  });

  it('cancels a queued task at once', async () => {
    const local = await startTestService({ MAX_CONCURRENT_SCANS: 1 });
    const flat = makeFlatTree(1500);
    const running = await local.startScan({ libritts_path: flat.root, analysis: 'full' });
    const queued = await local.startScan({ libritts_path: flat.root, analysis: 'full' });
    expect((await local.reader.get(queued))!.snapshot.status).toBe('queued');
    const res = await local.request(`${BASE}/scan-cancel/${queued}`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as TaskSnapshot).status).toBe('cancelled');
    await local.request(`${BASE}/scan-cancel/${running}`, { method: 'POST' });
    await local.close();
    flat.cleanup();
  });

  it('deletes a finished task and its results; refuses while active', async () => {
    const local = await startTestService({ MAX_CONCURRENT_SCANS: 1 });
    const flat = makeFlatTree(1500);
    const active = await local.startScan({ libritts_path: flat.root, analysis: 'full' });
    const refused = await local.request(`${BASE}/scans/${active}`, { method: 'DELETE' });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ code: 'TASK_ACTIVE' });
    await local.request(`${BASE}/scan-cancel/${active}`, { method: 'POST' });
    const del = await local.request(`${BASE}/scans/${active}`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect((await local.request(`${BASE}/scan-status/${active}`)).status).toBe(404);
    expect((await local.stores.results.page(active, { filter: {}, sort: { key: 'path', desc: false }, limit: 10 })).rows.length).toBe(0);
    await local.close();
    flat.cleanup();
  });

  it('refuses new scans with 429 and Retry-After when the queue is full', async () => {
    const local = await startTestService({ MAX_CONCURRENT_SCANS: 1, MAX_QUEUED_SCANS: 1 });
    const flat = makeFlatTree(1500);
    const ids = [await local.startScan({ libritts_path: flat.root, analysis: 'full' }), await local.startScan({ libritts_path: flat.root, analysis: 'full' })];
    const res = await local.post(`${BASE}/scan-libritts`, { libritts_path: flat.root });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await res.json()).toEqual({ detail: expect.any(String), code: 'TOO_MANY_TASKS', issues: [] });
    for (const id of ids) await local.request(`${BASE}/scan-cancel/${id}`, { method: 'POST' });
    await local.close();
    flat.cleanup();
  });

  it('holds the queue limit against POSTs that arrive together while the store is busy (each checked before any was queued)', async () => {
    const local = await startTestService({ MAX_CONCURRENT_SCANS: 1, MAX_QUEUED_SCANS: 2 });
    onTestFinished(async () => void (await local.close()));
    const flat = makeFlatTree(200);
    onTestFinished(flat.cleanup);
    // The write turn held as a scan thread's commit holds it (write-gate.ts), while ten POSTs arrive.
    Atomics.store(WRITE_GATE, 2, 777);
    const posts = Array.from({ length: 10 }, () => local.post(`${BASE}/scan-libritts`, { libritts_path: flat.root, reuse: 'none' }));
    setTimeout(() => {
      Atomics.store(WRITE_GATE, 2, 0);
      Atomics.notify(WRITE_GATE, 2);
    }, 30);
    const codes = (await Promise.all(posts)).map((r) => r.status);
    // One runs and two wait: three accepted, whatever the store made them wait.
    expect(codes.filter((c) => c === 202)).toHaveLength(3);
    expect(codes.filter((c) => c === 429)).toHaveLength(7);
    const ids = (await (await local.request(`${BASE}/scans?limit=100`)).json()) as { items: { task_id: string }[] };
    for (const { task_id } of ids.items) await local.request(`${BASE}/scan-cancel/${task_id}`, { method: 'POST' });
  });
});
