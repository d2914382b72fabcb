// Cluster mode: full-analysis speed with 2 worker processes against 1 (SCAN_WORKERS=1 each), POST
// latency on an API process while workers scan, and what Redis + PostgreSQL cost per file
// compared with the single process — all in one run, on throwaway Redis and PostgreSQL servers.
import autocannon from 'autocannon';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, startRedis } from '../test/helpers/cluster-infra.ts';
import { ensureCorpus } from './lib/corpus.ts';
import { median, ratio, type BenchResult } from './lib/report.ts';
import { postScan, startServer, waitTask, type BenchServer } from './lib/server.ts';

export interface ClusterOptions {
  corpusDir: string;
  fullMegabytes: number;
  headerFiles: number;
  runs: number;
  requests: number;
}

interface Snapshot {
  status: string;
  started_at: string;
  finished_at: string;
  files_done: number;
}

/** Seconds from the task's start to its end, by its own timestamps. */
const taskSeconds = (s: Snapshot): number => (Date.parse(s.finished_at) - Date.parse(s.started_at)) / 1000;

async function scanSeconds(api: BenchServer, root: string, analysis: 'header' | 'full'): Promise<number> {
  const snap = (await waitTask(api.url, await postScan(api.url, { libritts_path: root, analysis }))) as unknown as Snapshot;
  if (snap.status !== 'completed') throw new Error(`scan ${snap.status}`);
  return taskSeconds(snap);
}

export async function clusterBench(o: ClusterOptions): Promise<BenchResult> {
  const started = performance.now();
  const full = ensureCorpus({ dir: o.corpusDir, files: Math.max(20, Math.ceil((o.fullMegabytes * 1e6) / (8 * 48000))), minS: 1, maxS: 15, transcripts: true, seed: 11 });
  const headers = ensureCorpus({ dir: o.corpusDir, files: o.headerFiles, minS: 0.2, maxS: 1.0, transcripts: true, seed: 7 });
  const [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
  const servers: BenchServer[] = [];
  const cluster = async (workers: number) => {
    const env = { REDIS_URL: redis.url, DATABASE_URL: await postgres.freshDatabase(), REDIS_PREFIX: `bench${servers.length}`, SCAN_WORKERS: '1', MAX_QUEUED_SCANS: '100000' };
    const started = await Promise.all([startServer({ ...env, ROLE: 'api' }), ...Array.from({ length: workers }, () => startServer({ ...env, ROLE: 'worker' }))]);
    servers.push(...started);
    return started[0]!;
  };
  try {
    // Single process, one thread: the baseline of the per-file cost.
    const single = await startServer({ DB_PATH: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vl-bench-')), 'b.db'), SCAN_WORKERS: '1' });
    servers.push(single);
    await scanSeconds(single, headers.root, 'header'); // warm-up (page cache, JIT)
    const singleRuns: number[] = [];
    for (let i = 0; i < o.runs; i++) singleRuns.push(await scanSeconds(single, headers.root, 'header'));
    const singleHeader = median(singleRuns);
    await single.stop();

    const speeds = new Map<number, number>();
    let clusterHeader = NaN;
    let loaded = { p50: NaN, p99: NaN, errors: 0 };
    for (const workers of [1, 2]) {
      const api = await cluster(workers);
      await scanSeconds(api, full.root, 'full'); // warm-up
      const xs: number[] = [];
      for (let i = 0; i < o.runs; i++) xs.push(full.bytes / 1e6 / (await scanSeconds(api, full.root, 'full')));
      speeds.set(workers, median(xs));
      if (workers === 1) {
        await scanSeconds(api, headers.root, 'header');
        const hs: number[] = [];
        for (let i = 0; i < o.runs; i++) hs.push(await scanSeconds(api, headers.root, 'header'));
        clusterHeader = median(hs);
      } else {
        // POST latency on the API process while both workers run full scans.
        const busy = [await postScan(api.url, { libritts_path: full.root, analysis: 'full' }), await postScan(api.url, { libritts_path: full.root, analysis: 'full' })];
        const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'vl-empty-'));
        const r = await autocannon({ url: `${api.url}/api/voice-library/scan-libritts`, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ libritts_path: empty, analysis: 'header' }), connections: 4, amount: o.requests });
        loaded = { p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
        for (const id of busy) await waitTask(api.url, id);
      }
      for (const s of servers.splice(0)) await s.stop();
    }
    const w1 = speeds.get(1)!;
    const w2 = speeds.get(2)!;
    const perFileUs = ((clusterHeader - singleHeader) / headers.files.length) * 1e6;
    return {
      name: 'cluster',
      params: { full_mb: Math.round(full.bytes / 1e6), header_files: headers.files.length, runs: o.runs, scan_workers_per_process: 1 },
      seconds: (performance.now() - started) / 1000,
      metrics: [
        { label: 'cluster full analysis, 1 worker process (warm)', value: w1, unit: 'MB/s' },
        { label: 'cluster full analysis, 2 worker processes (warm)', value: w2, unit: 'MB/s', baseline: { label: '1 worker', value: w1 }, ratio: ratio(w2, w1), target: '≥ 1.6×', pass: (ratio(w2, w1) ?? 0) >= 1.6 },
        { label: 'POST p50, API process, 2 workers scanning', value: loaded.p50, unit: 'ms' },
        { label: 'POST p99, API process, 2 workers scanning', value: loaded.p99, unit: 'ms', target: '≤ 10 ms', pass: loaded.p99 <= 10, note: `${loaded.errors} errors` },
        { label: `header scan, single process, 1 thread (${headers.files.length} files)`, value: headers.files.length / singleHeader, unit: 'files/s' },
        {
          label: 'header scan, cluster, 1 worker process, 1 thread',
          value: headers.files.length / clusterHeader,
          unit: 'files/s',
          baseline: { label: 'single process', value: headers.files.length / singleHeader },
          ratio: ratio(headers.files.length / clusterHeader, headers.files.length / singleHeader),
          note: `Redis + PostgreSQL cost ${perFileUs.toFixed(1)} µs per file`,
        },
      ],
    };
  } finally {
    for (const s of servers) await s.stop();
    await Promise.allSettled([redis.stop(), postgres.stop()]);
  }
}

