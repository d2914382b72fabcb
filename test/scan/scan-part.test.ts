import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { FileResult } from '../../src/domain/file-result.ts';
import { wholeTreePlan } from '../../src/scan/plan.ts';
import { scanPart, type PartProgress } from '../../src/scan/scan-part.ts';
import { SCANNER_VERSION } from '../../src/scan/version.ts';
import { walkWavFiles } from '../../src/scan/walk.ts';
import { eachFile } from '../../src/scan/folder-files.ts';
import { WorkerPool } from '../../src/scan/worker-pool.ts';
import { openSqliteStores } from '../../src/store/sqlite/index.ts';
import type { ResultStore } from '../../src/store/types.ts';
import { queuedSnapshot } from '../../src/tasks/local-queue.ts';
import { ageTree, makeFlatTree, makeLibriTTSTree, tempDir } from '../helpers/libritts-tree.ts';

/** scanPart with a reuse reference, on a real worker pool and a real SQLite store. */

let pool: WorkerPool;
let stores: ReturnType<typeof openSqliteStores>;
beforeAll(async () => {
  pool = new WorkerPool(1);
  stores = await openSqliteStores(path.join(tempDir('vl-part-'), 'v.db'));
});
afterAll(async () => {
  await pool.close();
  await stores.close();
});

async function newTask(root: string): Promise<string> {
  const snapshot = queuedSnapshot({ libritts_path: root, root, analysis: 'header' });
  await stores.tasks.insertTask({ snapshot, root, reuse: 'auto', scannerVersion: SCANNER_VERSION }, { id: 1, type: 'progress', snapshot });
  return snapshot.task_id;
}

async function rows(taskId: string): Promise<FileResult[]> {
  const out: FileResult[] = [];
  for (let after; ;) {
    const page = await stores.results.page(taskId, { filter: {}, sort: { key: 'path', desc: false }, after, limit: 1000 });
    out.push(...page.rows);
    if (!page.next) return out;
    after = page.next;
  }
}

describe('scanPart reusing a reference scan', () => {
  it('falls back to reading when the reference is deleted part-way: every file once, the same rows', async () => {
    const n = 1200;
    const tree = makeFlatTree(n);
    onTestFinished(tree.cleanup);
    ageTree(tree.root);
    const part = wholeTreePlan(null)[0]!;
    const ref = await newTask(tree.root);
    await scanPart(
      { taskId: ref, root: tree.root, analysis: 'header', part, resume: false, reference: null },
      { pool, results: stores.results },
      new AbortController().signal,
      () => {},
    );
    const expected = await rows(ref);
    expect(expected).toHaveLength(n);

    const task = await newTask(tree.root);
    let deleted = false;
    let last: PartProgress | null = null;
    await scanPart(
      { taskId: task, root: tree.root, analysis: 'header', part, resume: false, reference: { taskId: ref, analysis: 'header' } },
      { pool, results: stores.results },
      new AbortController().signal,
      (p) => {
        last = p;
        // The first walked batch has been copied: the reference goes away now.
        if (!deleted && p.reused > 0) {
          deleted = true;
          void stores.tasks.deleteTask(ref);
        }
      },
    );
    expect(deleted).toBe(true);
    expect(await stores.tasks.getTask(ref)).toBeNull();
    const p = last as unknown as PartProgress;
    expect(p.done).toBe(n);
    expect(p.reused).toBeGreaterThan(0);
    expect(p.reused).toBeLessThan(n);
    expect(p.bytes).toBeGreaterThan(0);
    expect(await rows(task)).toEqual(expected);
  });
});

describe('scanPart where the reading threads record the rows (SQLite)', () => {
  it.each(['header', 'full'] as const)('records the same rows, counts and summary as when every row comes back to this thread (%s)', async (analysis) => {
    const tree = makeLibriTTSTree({ utterancesPerChapter: 7 });
    const root = fs.realpathSync(tree.root);
    const part = wholeTreePlan(null)[0]!;
    const run = async (threads: boolean) => {
      // The same store, except that it lets no thread record rows (as the PostgreSQL store).
      const results: ResultStore = threads ? stores.results : Object.create(stores.results, { threadWrites: { value: () => null } });
      const task = await newTask(root);
      let last: PartProgress | null = null;
      const agg = await scanPart(
        { taskId: task, root, analysis, part, resume: false, reference: null },
        { pool, results, headerBatch: 5, fullBatch: 3 },
        new AbortController().signal,
        (p) => (last = p),
      );
      return { rows: (await rows(task)).map((r) => JSON.stringify(r)), progress: last, summary: agg.summary(), speakers: agg.speakers(new Map()) };
    };
    const viaThreads = await run(true);
    const viaMain = await run(false);
    expect(stores.results.threadWrites(await newTask(root))).not.toBeNull();
    expect(viaThreads.rows).toHaveLength([...walkWavFiles(root)].length);
    expect(viaThreads).toEqual(viaMain);
  });
});

describe('scanPart rescans where the reading threads copy the unchanged rows (SQLite)', () => {
  /** Flips a file's samples, keeps its size, and dates it well in the past (not racy). */
  const rewriteSameSize = (file: string) => {
    const bytes = fs.readFileSync(file);
    for (let i = 44; i < bytes.length; i++) bytes[i] = 255 - bytes[i]!;
    fs.writeFileSync(file, bytes);
    const old = new Date(Date.now() - 600_000);
    fs.utimesSync(file, old, old);
  };

  it.each([
    ['header', 'header'],
    ['full', 'full'],
    ['header', 'full'],
  ] as const)(
    'a %s rescan of a %s scan: the same rows, counts and summary as when this thread copies them, also when a changed file crashes its worker after its batch was copied',
    async (analysis, refAnalysis) => {
      const tree = makeLibriTTSTree({ utterancesPerChapter: 7 });
      const root = fs.realpathSync(tree.root);
      ageTree(root);
      const part = wholeTreePlan(null)[0]!;
      const all = [...walkWavFiles(root)].map((f) => f.rel);
      const ref = await newTask(root);
      await scanPart({ taskId: ref, root, analysis: refAnalysis, part, resume: false, reference: null }, { pool, results: stores.results }, new AbortController().signal, () => {});
      const changed = [all[2]!, all[9]!, all[all.length - 1]!];
      for (const f of changed) rewriteSameSize(path.join(root, f));
      const crashing = new WorkerPool(1, { faults: { crashOn: changed[1]! } });
      onTestFinished(() => crashing.close().then(() => undefined));
      const run = async (threads: boolean, on: WorkerPool) => {
        const results: ResultStore = threads ? stores.results : Object.create(stores.results, { threadWrites: { value: () => null } });
        const task = await newTask(root);
        let last: PartProgress | null = null;
        const agg = await scanPart(
          { taskId: task, root, analysis, part, resume: false, reference: { taskId: ref, analysis: refAnalysis } },
          { pool: on, results, headerBatch: 8, fullBatch: 8 },
          new AbortController().signal,
          (p) => (last = p),
        );
        return { rows: (await rows(task)).map((r) => JSON.stringify(r)), progress: last, summary: agg.summary(), speakers: agg.speakers(new Map()) };
      };
      const viaThreads = await run(true, pool);
      expect(viaThreads.rows).toHaveLength(all.length);
      expect(viaThreads.progress).toMatchObject({ done: all.length, reused: all.length - changed.length, walked: true });
      expect(viaThreads).toEqual(await run(false, pool));
      // A crash after the copy: the retry counts the rows copied before it as reused, not read.
      const crashed = await run(true, crashing);
      expect(crashed.progress).toMatchObject({ done: all.length, reused: all.length - changed.length });
      expect(crashed).toEqual(await run(false, crashing));
      expect(crashed.rows.filter((r) => r.includes('"WORKER_CRASHED"'))).toEqual([expect.stringContaining(JSON.stringify(changed[1]))]);
    },
  );
});

describe('scanPart batches', () => {
  it.each([
    ['header', 5],
    ['full', 3],
  ] as const)('hold at most the batch size (%s: %i files), packed folders split where a batch ends, every file once', async (analysis, size) => {
    const tree = makeLibriTTSTree({ utterancesPerChapter: 7 });
    const root = fs.realpathSync(tree.root);
    ageTree(root); // not racy: every row records its file's modification time
    const sizes: number[] = [];
    const sent: string[] = [];
    const counting = Object.create(pool, {
      run: {
        value: (...args: Parameters<WorkerPool['run']>) => {
          const files = eachFile(args[2]);
          sizes.push(files.length);
          sent.push(...files.map((f) => f.rel));
          return pool.run(...args);
        },
      },
    }) as WorkerPool;
    const task = await newTask(root);
    await scanPart(
      { taskId: task, root, analysis, part: wholeTreePlan(null)[0]!, resume: false, reference: null },
      { pool: counting, results: stores.results, headerBatch: size, fullBatch: size },
      new AbortController().signal,
      () => undefined,
    );
    const all = [...walkWavFiles(root)].map((f) => f.rel);
    expect(Math.max(...sizes)).toBe(size);
    expect(sent.sort()).toEqual(all.sort());
    expect((await rows(task)).map((r) => r.path).sort()).toEqual(all);
    // Modification times are stored as 64-bit integers, to the nanosecond.
    const stored = stores.database.db
      .prepare('SELECT path, typeof(mtime_ns) AS type, mtime_ns FROM results WHERE task = (SELECT seq FROM tasks WHERE id = ?)')
      .safeIntegers()
      .all(task) as { path: string; type: string; mtime_ns: bigint }[];
    expect(stored).toHaveLength(all.length);
    for (const r of stored) expect(r).toEqual({ path: r.path, type: 'integer', mtime_ns: fs.lstatSync(path.join(root, r.path), { bigint: true }).mtimeNs });
  });
});
