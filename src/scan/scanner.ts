import type { FileResult } from '../domain/file-result.ts';
import type { ScanSummary } from '../domain/task.ts';
import type { TaskStore } from '../store/types.ts';
import { ScanFailure, type ScanContext, type ScanJob, type Scanner } from '../tasks/scanner.ts';
import { ScanAggregator } from './summary.ts';
import type { DiscoveredFile } from './types.ts';
import { AbortError, RootRefusedError, type WorkerPool } from './worker-pool.ts';

export interface ScannerOptions {
  store: TaskStore;
  pool: WorkerPool;
  /** Files per worker message: large for header reads, smaller when samples are read. */
  headerBatch?: number;
  fullBatch?: number;
  /** A tree with more WAV files than this fails the task with TOO_MANY_FILES. */
  maxFiles?: number;
}

/** Files per message from the walking worker. */
const DISCOVERY_BATCH = 256;
const RESUME_PAGE = 1000;

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new AbortError();
}

/** A worker's refusal of the root becomes the task's error; anything else passes through. */
const asScanFailure = (err: unknown): unknown => (err instanceof RootRefusedError ? new ScanFailure(err.code, err.detail) : err);

/**
 * The file scanner: discovers a tree's WAVs on the main thread (a stream; it only lists
 * directories) while the worker pool already reads them in batches, writes each batch's results
 * to the store in one transaction, and folds them into the summary. Files recorded by an earlier,
 * interrupted run of the same task are skipped.
 */
export function createScanner(opts: ScannerOptions): Scanner {
  const { store, pool } = opts;
  const headerBatch = opts.headerBatch ?? 512;
  const fullBatch = opts.fullBatch ?? 16;
  const maxFiles = opts.maxFiles ?? Number.POSITIVE_INFINITY;

  return {
    async scan(job: ScanJob, ctx: ScanContext): Promise<ScanSummary> {
      const { signal } = ctx;
      // The root resolved when the request was accepted; every worker job re-checks it first.
      const root = job.root;
      ctx.phase('discovering', { message: 'Discovering files: 0 found', files_total: null });

      // Resume: what an earlier run recorded counts as done and feeds the summary.
      const agg = new ScanAggregator();
      const recorded = new Set<string>();
      for (let after: string | undefined; ; ) {
        const page = await store.results(job.task_id, { after, limit: RESUME_PAGE });
        if (page.length === 0) break;
        agg.add(page);
        for (const r of page) recorded.add(r.path);
        after = page[page.length - 1]!.path;
      }
      const counts = await store.resultCounts(job.task_id);

      // Discovery and reading overlap: workers start on the first full batch while the walk goes
      // on, so on a cold disk listing directories and reading headers share the wait. The phase
      // stays `discovering` (files_total null) until the walk ends.
      const batchSize = job.analysis === 'full' ? fullBatch : headerBatch;
      const pending: DiscoveredFile[] = [];
      let next = 0;
      let found = 0;
      let walking = true;
      let stop = false;
      let total: number | null = null;
      let done = counts.done;
      let failed = counts.failed;
      let bytes = counts.bytes;
      const startDone = done;
      const started = performance.now();
      const waiting: (() => void)[] = [];
      const wake = () => {
        for (const w of waiting.splice(0)) w();
      };
      const report = () => {
        const elapsed = (performance.now() - started) / 1000;
        const rate = elapsed > 0 ? (done - startDone) / elapsed : 0;
        const base = { files_done: done, files_failed: failed, bytes_done: bytes, files_per_s: rate > 0 ? Math.round(rate * 10) / 10 : null };
        if (total === null) return { ...base, message: `Discovering files: ${found} found, ${done} scanned`, eta_s: null };
        return { ...base, message: `Processing file ${done}/${total}`, files_total: total, eta_s: rate > 0 ? Math.round(((total - done) / rate) * 10) / 10 : null };
      };

      const record = async (results: FileResult[]) => {
        try {
          await store.insertResults(job.task_id, results);
        } catch (err) {
          if ((err as { code?: string }).code === 'SQLITE_FULL') {
            throw new ScanFailure('STORAGE_FULL', 'The database is full; results recorded so far are kept');
          }
          throw new ScanFailure('STORE_WRITE_FAILED', `Could not record results: ${(err as Error).message}`);
        }
        agg.add(results);
        done += results.length;
        for (const r of results) {
          if (r.error) failed++;
          bytes += r.bytes ?? 0;
        }
        ctx.progress(report());
      };
      // Two batches in flight per worker keep every thread busy while results are recorded.
      const lane = async () => {
        for (;;) {
          throwIfAborted(signal);
          if (stop) return;
          const available = pending.length - next;
          if (available >= batchSize || (!walking && available > 0)) {
            const batch = pending.slice(next, (next += batchSize));
            await record(await pool.run(root, job.analysis, batch, signal));
          } else if (!walking) {
            return;
          } else {
            await new Promise<void>((r) => waiting.push(r));
          }
        }
      };
      const lanes = Promise.allSettled(Array.from({ length: pool.size * 2 }, lane));

      // The walk runs in a worker thread (walk.ts); its batches feed the lanes as they come.
      const walkStop = new AbortController();
      let tooMany = false;
      const onFiles = (files: DiscoveredFile[]) => {
        for (const file of files) {
          if (++found > maxFiles) {
            tooMany = true;
            walkStop.abort();
            return;
          }
          if (!recorded.has(file.rel)) pending.push(file);
        }
        if (pending.length - next >= batchSize) wake();
        // The runner coalesces these to its progress interval, so reporting often is cheap.
        ctx.progress(report());
      };
      try {
        try {
          await pool.walk(root, job.subsets, onFiles, AbortSignal.any([signal, walkStop.signal]), DISCOVERY_BATCH);
        } catch (err) {
          if (tooMany) throw new ScanFailure('TOO_MANY_FILES', `The tree holds more than ${maxFiles} WAV files (MAX_FILES_PER_SCAN); scan a subset or raise the limit`);
          throw err;
        }
        throwIfAborted(signal);
        total = pending.length + recorded.size;
        ctx.phase('processing', report());
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

      ctx.phase('finalizing', { ...report(), message: 'Summarizing speakers' });
      // The speaker table is a sidecar like any other: read in a worker, under the file rules.
      const info = await pool.speakers(root, signal).catch((err: unknown) => {
        throw asScanFailure(err);
      });
      await store.replaceSpeakers(job.task_id, agg.speakers(new Map(info.map((s) => [s.speaker_id, s]))));
      return agg.summary();
    },
  };
}
