import type { Analysis, SummaryRow } from '../domain/file-result.ts';
import { NO_PROGRESS, type PartProgress, type PartSpec } from '../domain/scan-part.ts';
import type { ReuseReference } from '../domain/task.ts';
import type { Metrics } from '../metrics.ts';
import { ScanFailure } from '../domain/scan-failure.ts';
import { StorageFullError, type ResultStore } from '../store/types.ts';
import { ScanAggregator } from './summary.ts';
import { eachFile, filesIn, splitFolder } from './folder-files.ts';
import type { DiscoveredFile, ScanItem } from './types.ts';
import { unchanged } from './unchanged.ts';
import { pathInScope } from './walk.ts';
import { AbortError, RootRefusedError, type BatchOutcome, type WorkerPool } from './worker-pool.ts';

export { NO_PROGRESS, type PartProgress } from '../domain/scan-part.ts';

export interface PartJob {
  taskId: string;
  /** The resolved root; every worker job re-checks it before reading (safe-open.ts verifyRoot). */
  root: string;
  analysis: Analysis;
  part: PartSpec;
  /** An earlier run of this part may have recorded files: look them up instead of reading them again. */
  resume: boolean;
  /** The scan whose rows of unchanged files are copied instead of read (API.md `reuse`), if any. */
  reference: ReuseReference | null;
}

export interface PartDeps {
  pool: WorkerPool;
  results: ResultStore;
  /** Counts the files read (metrics.ts). */
  metrics?: Metrics | undefined;
  /** A part with more WAV files than this fails the task with TOO_MANY_FILES. */
  maxFiles?: number;
  /**
   * Files per worker message: large for header reads, smaller when samples are read. Each message
   * wakes the main thread, which then preempts the (niced) worker on its core: 16 files a message
   * cost ~0.2 ms of the worker's time each, a quarter of a warm full scan; 64 took the 2.1 GB
   * benchmark from 0.81 s to 0.55 s. A cancel does not wait for a batch (the thread is terminated).
   */
  headerBatch?: number;
  fullBatch?: number;
}

/** Files per message from the walking worker. */
const DISCOVERY_BATCH = 256;

/**
 * Fewest files a batch takes while the walk goes on, when a reading thread would otherwise wait
 * for a full batch: at the start of a scan, and wherever the walk falls behind the readers.
 */
const EARLY_BATCH = 64;

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new AbortError();
}

/** A worker's refusal of the root, or a full store, becomes the task's error; anything else passes. */
export function asScanFailure(err: unknown): unknown {
  if (err instanceof RootRefusedError) return new ScanFailure(err.code, err.detail);
  if (err instanceof StorageFullError) return new ScanFailure('STORAGE_FULL', err.message);
  return err;
}

/**
 * Scans one part of a task: a walk in a worker thread feeds batches to the worker pool while it
 * goes on (on a cold disk listing directories and reading headers share the wait), each batch's
 * results are written to the store in one write before they count, and everything is folded
 * into the part's aggregate. Files an earlier run recorded are skipped and counted. The same
 * code runs the single process's one part and each part a cluster worker takes.
 */
export async function scanPart(job: PartJob, deps: PartDeps, signal: AbortSignal, onProgress: (p: PartProgress) => void): Promise<ScanAggregator> {
  const { pool, results } = deps;
  const maxFiles = deps.maxFiles ?? Number.POSITIVE_INFINITY;
  const batchSize = job.analysis === 'full' ? (deps.fullBatch ?? 64) : (deps.headerBatch ?? 512);
  const agg = new ScanAggregator(job.analysis);
  const p: PartProgress = { ...NO_PROGRESS };
  const ref = job.reference;
  /** Counts recorded rows; `reused`: copied, not read (a resumed row says which it was). */
  const count = (rows: (SummaryRow & { reused?: boolean | undefined })[], reused = false) => {
    agg.add(rows);
    p.done += rows.length;
    for (const r of rows) {
      if (r.error) p.failed++;
      if (reused || r.reused) p.reused++;
      else p.bytes += r.bytes ?? 0;
    }
  };

  /** Files and packed folders waiting to be read, from `next` on; `waitingFiles` counts their files. */
  const pending: ScanItem[] = [];
  let next = 0;
  let waitingFiles = 0;
  const queue = (items: readonly ScanItem[]) => {
    for (const it of items) {
      pending.push(it);
      waitingFiles += filesIn(it);
    }
    if (ready()) wake();
  };
  /** Whether a lane should take a batch now. */
  const ready = () => waitingFiles >= batchSize || (waitingFiles > 0 && (!walking || (waitingFiles >= EARLY_BATCH && pool.idleReaders > 0)));
  /**
   * Up to `batchSize` files from the front of the queue; a packed folder is split where a batch
   * ends (a whole 256-file folder in a 64-file full-analysis batch left one thread reading alone
   * at the end: 0.65× of the raw read instead of 0.9×).
   */
  const take = (): ScanItem[] => {
    const batch: ScanItem[] = [];
    for (let n = 0; n < batchSize && next < pending.length;) {
      let it = pending[next]!;
      if ('names' in it && it.count > batchSize - n) {
        const [head, rest] = splitFolder(it, batchSize - n);
        pending[next] = rest;
        it = head;
      } else next++;
      batch.push(it);
      n += filesIn(it);
      waitingFiles -= filesIn(it);
    }
    return batch;
  };
  let stop = false;
  const waiting: (() => void)[] = [];
  const wake = () => {
    for (const w of waiting.splice(0)) w();
  };

  /** A resumed part's files, as its walk finds them now (see dropVanished). */
  const walked = new Set<string>();
  /** Drops the files this task recorded in an earlier run, counting them. */
  const recorded = async (files: DiscoveredFile[]): Promise<DiscoveredFile[]> => {
    for (const f of files) walked.add(f.rel);
    const rows = await results.resultsByPaths(
      job.taskId,
      files.map((f) => f.rel),
    );
    const known = new Set(rows.map((r) => r.path));
    count(rows);
    return files.filter((f) => !known.has(f.rel));
  };
  /**
   * Copies the rows of the files the reference scan saw as they are now, in bulk inside the
   * store, and drops them: they are not read. A reference deleted meanwhile copies nothing, and
   * its files are read.
   */
  const reusable = async (files: DiscoveredFile[]): Promise<DiscoveredFile[]> => {
    const printed = files.filter((f) => f.fp);
    if (!ref || !printed.length) return files;
    const prints = await results.fingerprints(
      ref.taskId,
      printed.map((f) => f.rel),
    );
    const same = printed.filter((f) => unchanged(f.fp!, prints.get(f.rel)));
    if (!same.length) return files;
    const copied = await results.copyResults(
      ref.taskId,
      job.taskId,
      same.map((f) => f.rel),
      job.analysis === 'header' && ref.analysis === 'full',
    );
    count(copied, true);
    deps.metrics?.reused(copied.length);
    const done = new Set(copied.map((r) => r.path));
    return files.filter((f) => !done.has(f.rel));
  };

  // Where the store allows it (SQLite), the reading threads record the rows themselves: a
  // batch answers with its counts and its part of the summary instead of its rows. They take a
  // rescan's fingerprints and copy its unchanged rows too (`target.reuse`; the walk then sends
  // plain folders): on the main thread the lookup, comparison and copy cost ~14 µs a file, and
  // held the event loop for up to 600 ms; in the walking thread the fingerprints, ~9 µs a file,
  // bounded the rescan.
  const target = results.threadWrites(job.taskId, ref && { taskId: ref.taskId, headerOnly: job.analysis === 'header' && ref.analysis === 'full' });
  const reuseHere = ref !== null && !target?.reuse;

  // Each walked batch is checked against the store, in order, before its files queue: what an
  // earlier run of this task recorded (resume), then what the reference scan can give (reuse),
  // unless the reading threads do that.
  let sorting: Promise<void> = Promise.resolve();
  const sort = (items: ScanItem[]) => {
    if (!job.resume && !reuseHere) return queue(items);
    // Looked up by path: one by one.
    const files = eachFile(items);
    sorting = sorting.then(async () => {
      let left = job.resume ? await recorded(files) : files;
      if (reuseHere) left = await reusable(left);
      queue(left);
      onProgress({ ...p });
    });
  };

  const read = (batch: ScanItem[]) => pool.run(job.root, job.analysis, batch, signal, target);
  const record = async ({ rows, written }: BatchOutcome) => {
    if (rows.length) {
      await results.insertResults(job.taskId, rows);
      deps.metrics?.scanned(rows);
      count(rows);
    }
    for (const w of written) {
      agg.merge(w.summary);
      p.done += w.rows;
      p.failed += w.failed;
      p.bytes += w.bytes;
      p.reused += w.reused;
      deps.metrics?.scannedOutcomes(w.outcomes, w.bytes);
      if (w.reused) deps.metrics?.reused(w.reused);
    }
    onProgress({ ...p });
  };
  let walking = true;
  // Two batches in flight per worker keep every thread busy while results are recorded.
  const lane = async () => {
    for (;;) {
      throwIfAborted(signal);
      if (stop) return;
      if (ready()) {
        const batch = take();
        // Items handed out are dropped from the list now and then, so that it holds the files
        // waiting, not every file of the tree (100k entries on a 100k-file rescan).
        if (next >= 1024 && next * 2 >= pending.length) {
          pending.splice(0, next);
          next = 0;
        }
        await record(await read(batch));
      } else if (!walking) {
        return;
      } else {
        await new Promise<void>((r) => waiting.push(r));
      }
    }
  };
  const lanes = Promise.allSettled(Array.from({ length: pool.size * 2 }, lane));

  const walkStop = new AbortController();
  let tooMany = false;
  const onFiles = (items: ScanItem[]) => {
    for (const it of items) p.found += filesIn(it);
    if (p.found > maxFiles) {
      tooMany = true;
      walkStop.abort();
      return;
    }
    sort(items);
    // The executor coalesces progress to its interval, so reporting often is cheap.
    onProgress({ ...p });
  };
  try {
    try {
      await pool.walk(job.root, job.part.scope, onFiles, AbortSignal.any([signal, walkStop.signal]), { batch: DISCOVERY_BATCH, fingerprints: reuseHere });
    } catch (err) {
      if (tooMany) throw new ScanFailure('TOO_MANY_FILES', `The tree holds more than ${maxFiles} WAV files (MAX_FILES_PER_SCAN); scan a subset or raise the limit`);
      throw err;
    }
    await sorting;
    throwIfAborted(signal);
    p.walked = true;
    onProgress({ ...p });
  } catch (err) {
    stop = true;
    throw asScanFailure(err);
  } finally {
    walking = false;
    wake();
    // Never leave a lane writing behind a failed walk.
    if (stop) await lanes;
  }

  const failure = (await lanes).find((l): l is PromiseRejectedResult => l.status === 'rejected');
  if (failure) throw asScanFailure(failure.reason);
  throwIfAborted(signal);
  if (job.resume) await dropVanished(job, results, walked, signal).catch((err: unknown) => Promise.reject(asScanFailure(err)));
  return agg;
}

/**
 * Deletes the rows an earlier run of a resumed part recorded for files its walk no longer finds
 * (removed while the service was down). They were counted nowhere but stayed served: a task's
 * pages, exports and filtered totals held rows its `total`, summary and speakers did not (stop
 * 23). Reads the task's recorded paths under the part's folders only (paths alone, by the
 * (task, path) index): a cluster's folder part reads its folder's; a part that starts at the root
 * (the single process's, the loose shards) reads every path of the task (SQLite: 30–43 ms per
 * 100,000 paths). Only a resumed part pays it. `walked` holds every path the resumed walk found
 * (~240 bytes a path while the part runs).
 */
async function dropVanished(job: PartJob, results: ResultStore, walked: ReadonlySet<string>, signal: AbortSignal): Promise<void> {
  const gone: string[] = [];
  // A folder's rows lie in [`d/`, `d0`): `0` is the byte after `/`. The root's are every row.
  const ranges = job.part.scope.dirs.includes('') ? [{}] : [...new Set(job.part.scope.dirs)].map((d) => ({ from: `${d}/`, to: `${d}0` }));
  for (const range of ranges) {
    for (let after: string | undefined; ;) {
      throwIfAborted(signal);
      const paths = await results.recordedPaths(job.taskId, { ...range, after, limit: 5000 });
      for (const p of paths) if (!walked.has(p) && pathInScope(p, job.part.scope)) gone.push(p);
      if (paths.length < 5000) break;
      after = paths[paths.length - 1];
    }
  }
  await results.deleteResults(job.taskId, gone);
}
