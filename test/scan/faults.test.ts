import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { FileResult } from '../../src/domain/file-result.ts';
import { testConfig } from '../../src/config.ts';
import { createService } from '../../src/service.ts';
import { waitForEnd } from '../../src/tasks/wait-for-end.ts';
import type { TaskSnapshot } from '../../src/domain/task.ts';
import { makeFlatTree, makeLibriTTSTree, tempDir } from '../helpers/libritts-tree.ts';
import { BASE, startTestService, type TestService } from '../helpers/service.ts';
import { WRITE_GATE } from '../../src/store/sqlite/write-gate.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const waitFor = (svc: { events: TestService['events'] }, id: string, pred: (s: TaskSnapshot) => boolean) =>
  new Promise<void>((resolve) => {
    const off = svc.events.subscribe(id, (e) => {
      if (pred(e.snapshot)) (off(), resolve());
    });
  });

describe('faults during a scan, through the service', () => {
  it('a worker crash on one file: the worker is replaced, the file gets an error, the scan completes', async () => {
    const tree = makeLibriTTSTree({ corrupt: false });
    cleanups.push(tree.cleanup);
    const victim = tree.files[3]!;
    const config = testConfig({ DB_PATH: path.join(tempDir('vl-db-'), 't.db'), SCAN_WORKERS: 2, LOG_LEVEL: 'silent' });
    const svc = await createService(config, undefined, { faults: { crashOn: path.basename(victim.rel) } });
    cleanups.push(() => svc.close());
    const res = await svc.app.request(`${BASE}/scan-libritts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ libritts_path: tree.root, analysis: 'full' }),
    });
    const { task_id } = (await res.json()) as { task_id: string };
    const done = (await waitForEnd(svc.reader, svc.events, task_id, 60_000))!;
    expect(done).toMatchObject({ status: 'completed', files_total: tree.files.length, files_done: tree.files.length, files_failed: 1 });
    const { items } = (await (await svc.app.request(`${BASE}/scan-results/${task_id}?only=failed`)).json()) as { items: FileResult[] };
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ path: victim.rel, speaker_id: victim.speaker, error: { code: 'WORKER_CRASHED' } });
    expect(svc.pool.busy).toBe(0);
  });

  it('the database fills up: the task fails with STORAGE_FULL, the server keeps serving, recorded results stay', async () => {
    // The page limit is per connection: the scan thread, which records the rows, applies the same one.
    const dbPageLimit = new Int32Array(new SharedArrayBuffer(4));
    const svc = await startTestService({ SCAN_WORKERS: 1 }, { faults: { dbPageLimit } });
    cleanups.push(() => svc.close());
    const flat = makeFlatTree(3000);
    cleanups.push(flat.cleanup);
    const id = await svc.startScan({ libritts_path: flat.root, analysis: 'full' });
    await waitFor(svc, id, (s) => s.files_done > 0);
    const db: Database.Database = svc.stores.database.db;
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    Atomics.store(dbPageLimit, 0, pages);
    const done = await svc.waitDone(id);
    expect(done.status).toBe('failed');
    expect(done.error).toEqual({ code: 'STORAGE_FULL', detail: expect.stringMatching(/full/) });
    expect(done.files_done).toBeLessThan(3000);
    // Still serving, and the failed state is what clients see.
    expect((await svc.request('/healthz')).status).toBe(200);
    const status = (await (await svc.request(`${BASE}/scan-status/${id}`)).json()) as TaskSnapshot;
    expect(status).toMatchObject({ status: 'failed', error: { code: 'STORAGE_FULL' } });
    const events = await svc.request(`${BASE}/scan-events/${id}`);
    expect(await events.text()).toMatch(/event: failed\n/);
    // Every result counted before the failure is on disk.
    const kept = (await svc.stores.results.resultCounts(id)).done;
    expect(kept).toBe(done.files_done);
    expect(kept).toBeGreaterThan(0);
    // With room again, scanning works.
    db.pragma('max_page_count = 1073741823');
    Atomics.store(dbPageLimit, 0, 0);
    const next = await svc.startScan({ libritts_path: flat.root, analysis: 'header' });
    expect((await svc.waitDone(next)).status).toBe('completed');
  });

  it('a scan cancelled while a thread records a batch: filtered and sorted pages still answer afterwards (the dead thread’s write is not counted for ever)', async () => {
    const tree = makeLibriTTSTree({ corrupt: false });
    cleanups.push(tree.cleanup);
    const victim = path.basename(tree.files[2]!.rel);
    // The thread that records the victim's batch waits inside its write until it is terminated.
    const svc = await startTestService({ SCAN_WORKERS: 1 }, { faults: { inTurn: { on: victim, then: 'hang' } } });
    cleanups.push(() => svc.close());
    const id = await svc.startScan({ libritts_path: tree.root, analysis: 'header', reuse: 'none' });
    for (const t = Date.now(); WRITE_GATE[2] === 0;) {
      expect(Date.now() - t, 'a thread holds the turn to write').toBeLessThan(10_000);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(WRITE_GATE[0]).toBeGreaterThan(0);
    expect([200, 202]).toContain((await svc.request(`${BASE}/scan-cancel/${id}`, { method: 'POST' })).status);
    expect((await svc.waitDone(id)).status).toBe('cancelled');
    expect(WRITE_GATE[0]).toBe(0);
    // A sorted page asks the catalog for a catch-up, which gave way for ever to the dead thread's write.
    const page = svc.request(`${BASE}/scan-results/${id}?sort=-duration_s`);
    const answered = await Promise.race([page.then((r) => r.status), new Promise((r) => setTimeout(() => r('no answer in 10 s'), 10_000))]);
    expect(answered).toBe(200);
  });

  it('a tree over MAX_FILES_PER_SCAN fails the task with TOO_MANY_FILES', async () => {
    const svc = await startTestService({ MAX_FILES_PER_SCAN: 10 });
    cleanups.push(() => svc.close());
    const tree = makeLibriTTSTree();
    cleanups.push(tree.cleanup);
    const done = await svc.waitDone(await svc.startScan({ libritts_path: tree.root, analysis: 'header' }));
    expect(done).toMatchObject({ status: 'failed', error: { code: 'TOO_MANY_FILES', detail: expect.stringContaining('10') } });
  });

  it('the scanned directory vanishing before the scan starts fails the task with PATH_NOT_FOUND', async () => {
    const svc = await startTestService({ MAX_CONCURRENT_SCANS: 1 });
    cleanups.push(() => svc.close());
    const big = makeFlatTree(2000);
    cleanups.push(big.cleanup);
    const tree = makeLibriTTSTree();
    const first = await svc.startScan({ libritts_path: big.root, analysis: 'full' });
    const second = await svc.startScan({ libritts_path: tree.root, analysis: 'header' });
    fs.rmSync(tree.root, { recursive: true, force: true });
    expect(await svc.waitDone(second)).toMatchObject({ status: 'failed', error: { code: 'PATH_NOT_FOUND' } });
    expect((await svc.waitDone(first)).status).toBe('completed');
  });
});
