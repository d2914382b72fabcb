import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { FileResult } from '../../src/domain/file-result.ts';
import type { TaskSnapshot } from '../../src/domain/task.ts';
import { openSqliteStores } from '../../src/store/sqlite/index.ts';
import { queuedSnapshot } from '../../src/tasks/local-queue.ts';
import { SCANNER_VERSION } from '../../src/scan/version.ts';
import { makeLibriTTSTree, tempDir } from '../helpers/libritts-tree.ts';
import { BASE, startTestService } from '../helpers/service.ts';
import { toneWav } from '../helpers/wav.ts';

/** What a store on disk must survive: a damaged row, and a restart between a cancel and its end. */

type Stores = Awaited<ReturnType<typeof openSqliteStores>>;
/** A queued header task written straight into the stores; its id. */
async function addTask(stores: Stores): Promise<string> {
  const snapshot = queuedSnapshot({ libritts_path: '/d', root: '/d', analysis: 'header' });
  await stores.tasks.insertTask({ snapshot, root: '/d', reuse: 'auto', scannerVersion: SCANNER_VERSION }, { id: 1, type: 'progress', snapshot });
  return snapshot.task_id;
}
/** A good row with the transcript "a morning word". */
const row = (p: string): FileResult => ({
  path: p,
  subset: 'dev-clean',
  speaker_id: '84',
  chapter_id: '1',
  utterance_id: null,
  text_normalized: 'a morning word',
  text_original: null,
  sample_rate: 24000,
  channels: 1,
  bits_per_sample: 16,
  encoding: 'pcm_s16le',
  frames: 24000,
  duration_s: 1,
  bytes: 48044,
  peak_dbfs: -3,
  rms_dbfs: -20,
  clipped_samples: 0,
  dc_offset: 0,
  leading_silence_s: 0,
  trailing_silence_s: 0,
  snr_db: 30,
  error: null,
});

describe('a stored task whose record is damaged', () => {
  it('is listed as failed instead of taking the list down, and does not stop a restart', async () => {
    const tree = makeLibriTTSTree({ subsets: { a: 1 }, chaptersPerSpeaker: 1 });
    onTestFinished(tree.cleanup);
    const dbPath = path.join(tempDir('vl-db-'), 'v.db');
    const a = await startTestService({ DB_PATH: dbPath });
    const done = await a.startScan({ libritts_path: tree.root, analysis: 'header' });
    await a.waitDone(done);
    const good = await a.startScan({ libritts_path: tree.root, analysis: 'header' });
    await a.waitDone(good);
    await a.close();

    // Damage one finished task's snapshot, and leave a second, unfinished one unreadable too.
    const db = new Database(dbPath);
    db.prepare('UPDATE tasks SET snapshot = ? WHERE id = ?').run('{"task_id": "x", "status": 12', done);
    db.prepare(
      "INSERT INTO tasks (id, seq, status, created_at, last_event_id, snapshot, root) VALUES ('00000000-0000-4000-8000-000000000001', 999, 'running', '2026-01-01T00:00:00.000Z', 7, 'not json', '/nowhere')",
    ).run();
    db.close();

    const b = await startTestService({ DB_PATH: dbPath });
    onTestFinished(async () => void (await b.close()));
    const list = await b.request(`${BASE}/scans`);
    expect(list.status).toBe(200);
    const items = ((await list.json()) as { items: TaskSnapshot[] }).items;
    expect(items.map((s) => s.task_id).sort()).toEqual([done, good, '00000000-0000-4000-8000-000000000001'].sort());
    expect(items.find((s) => s.task_id === done)).toMatchObject({ status: 'failed', error: { code: 'INTERNAL_ERROR' } });
    expect(items.find((s) => s.task_id === good)).toMatchObject({ status: 'completed' });
    const broken = await b.request(`${BASE}/scan-status/00000000-0000-4000-8000-000000000001`);
    expect(broken.status).toBe(200);
    expect(await broken.json()).toMatchObject({ status: 'failed', error: { code: 'INTERNAL_ERROR' } });
    // It ended for good: it can be deleted, and the next start does not meet it again.
    expect((await b.request(`${BASE}/scans/00000000-0000-4000-8000-000000000001`, { method: 'DELETE' })).status).toBe(204);
  });
});

describe('a cancel accepted before a restart', () => {
  it('stands: the task does not run on after the restart', async () => {
    const fifo = path.join(tempDir('vl-fifo-'), 'hang');
    execFileSync('mkfifo', [fifo]);
    const root = tempDir('vl-r-');
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(root, `f${i}.wav`), toneWav());
    fs.writeFileSync(path.join(root, 'hang.wav'), toneWav());
    const dbPath = path.join(tempDir('vl-db-'), 'v.db');
    const a = await startTestService({ DB_PATH: dbPath, SCAN_WORKERS: 1 }, { faults: { hangOn: { suffix: 'hang.wav', fifo } } });
    onTestFinished(() => void spawn('sh', ['-c', 'echo go > "$0"', fifo]));
    const id = await a.startScan({ libritts_path: root, analysis: 'header' });
    while ((await a.reader.get(id))!.snapshot.status !== 'running') await new Promise((r) => setTimeout(r, 10));
    // What the cancel route records before it stops the scan; then the process goes away
    // before the scan has ended (close() leaves running tasks to be resumed).
    await a.stores.tasks.requestCancel(id);
    await a.close();
    expect((await new Database(dbPath, { readonly: true }).prepare('SELECT status FROM tasks WHERE id = ?').get(id)) as { status: string }).toEqual({ status: 'running' });

    const b = await startTestService({ DB_PATH: dbPath, SCAN_WORKERS: 1 });
    onTestFinished(async () => void (await b.close()));
    const final = await b.waitDone(id);
    expect(final).toMatchObject({ status: 'cancelled', files_done: 0 });
    const rows = await (await b.request(`${BASE}/scan-results/${id}?format=jsonl`)).text();
    expect(rows).toBe('');
  });
});

describe('a deleted task', () => {
  it('leaves no catalog rows or transcripts behind, and its number is never given to a new task', async () => {
    const file = path.join(tempDir('vl-del-'), 'v.db');
    let stores = await openSqliteStores(file);
    const old = await addTask(stores);
    await stores.results.insertResults(old, [row('a.wav'), row('b.wav')]);
    expect(await stores.results.count(old, { q: 'morning' })).toBe(2); // indexed now
    await stores.tasks.deleteTask(old);
    await stores.close();
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT COUNT(*) AS n FROM catalog').get()).toEqual({ n: 0 });
    expect(db.prepare("SELECT COUNT(*) AS n FROM catalog_text WHERE catalog_text MATCH 'morning'").get()).toEqual({ n: 0 });
    db.close();
    stores = await openSqliteStores(file);
    onTestFinished(() => stores.close());
    const fresh = await addTask(stores);
    expect(await stores.results.count(fresh, { q: 'morning' })).toBe(0);
    expect(await stores.results.count(fresh, { min_duration: 0 })).toBe(0);
  });
});

describe('the catalog indexer', () => {
  it('waits in the background while rows are being written, catches up at once for a filtered query, and indexes by itself once writing pauses', async () => {
    const file = path.join(tempDir('vl-idx-'), 'v.db');
    const stores = await openSqliteStores(file);
    onTestFinished(() => stores.close());
    const id = await addTask(stores);
    const db = new Database(file, { readonly: true });
    onTestFinished(() => void db.close());
    const indexed = () => (db.prepare('SELECT COUNT(*) AS n FROM catalog').get() as { n: number }).n;
    // A scan's pace: a batch every 20 ms for 2.5 s, through several of the indexer's 500 ms ticks.
    let n = 0;
    for (const end = Date.now() + 2500; Date.now() < end;) {
      await stores.results.insertResults(id, [row(`${String(n++).padStart(5, '0')}.wav`)]);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(n).toBeGreaterThan(50);
    expect(indexed(), 'indexed while rows were being written').toBe(0);
    // A filtered query does not wait for the pause: it gets every row recorded so far.
    expect(await stores.results.count(id, { q: 'morning' })).toBe(n);
    expect(indexed()).toBe(n);
    // Rows written after that are indexed by the background within a few ticks of the pause.
    await stores.results.insertResults(id, [row('zz-1.wav'), row('zz-2.wav')]);
    const deadline = Date.now() + 5000;
    while (indexed() < n + 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(indexed()).toBe(n + 2);
  });

  it('catches up for filtered queries, and takes new tasks, while a scan thread commits batch after batch on its own connection', async () => {
    const file = path.join(tempDir('vl-idx-race-'), 'v.db');
    const stores = await openSqliteStores(file);
    onTestFinished(() => stores.close());
    const id = await addTask(stores);
    // A scan thread's pace (row-writer.ts), faster than any: a transaction of rows, 1 ms of
    // "reading", the next, for 1.5 s. (With no pause at all, the writer takes the lock again the
    // instant it lets go, and on a loaded machine the other connections' busy handlers, which
    // sleep between tries, could wait out the whole 1.5 s: no scan thread writes like that.)
    const writer = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const db = new (require(workerData.module))(workerData.file);
       db.pragma('busy_timeout = 5000');
       const insert = db.prepare("INSERT INTO results (task, path, text_normalized) VALUES (?, ?, 'a morning word')");
       const batch = db.transaction((from) => { for (let i = from; i < from + 100; i++) insert.run(workerData.task, String(i).padStart(7, '0') + '.wav'); });
       const reading = new Int32Array(new SharedArrayBuffer(4));
       let n = 0;
       for (const end = Date.now() + 1500; Date.now() < end; n += 100) {
         batch.immediate(n);
         Atomics.wait(reading, 0, 0, 1);
       }
       db.close();
       parentPort.postMessage(n);`,
      { eval: true, workerData: { file, task: stores.database.seqOf(id), module: require.resolve('better-sqlite3') } },
    );
    const written = new Promise<number>((resolve, reject) => (writer.once('message', resolve), writer.once('error', reject)));
    let done = false;
    void written.finally(() => (done = true));
    // Every catch-up meanwhile answers: none fails on a commit that came between its read and its write.
    // So does a new task's insert, which reads the queue's length before it writes.
    let asked = 0;
    while (!done) {
      expect(await stores.results.count(id, { q: 'morning' })).toBeGreaterThanOrEqual(0);
      const snapshot = queuedSnapshot({ libritts_path: '/d', root: '/d', analysis: 'header' });
      expect(await stores.tasks.insertTask({ snapshot, root: '/d', reuse: 'auto', scannerVersion: SCANNER_VERSION }, { id: 1, type: 'progress', snapshot }, 1_000_000)).toBe(true);
      asked++;
    }
    expect(asked).toBeGreaterThan(5);
    expect(await stores.results.count(id, { q: 'morning' })).toBe(await written);
  });
});
