// Header scan throughput against the raw open+read+close limit and against peer tools.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureCorpus } from './lib/corpus.ts';
import type { SingleService } from '../src/service.ts';
import { withService, timedScan } from './lib/inprocess.ts';
import { median, ratio, type BenchResult, type Metric } from './lib/report.ts';
import { dropCaches } from './lib/server.ts';
import { onShares } from './lib/threads.ts';

export interface HeaderOptions {
  files: number;
  /** A second, smaller tree (0: none). */
  smallFiles: number;
  corpusDir: string;
  workers: number;
  runs: number;
  cold: boolean;
}

// The raw limit: what the service must do at least (open, read the first 4 KiB, close), nothing else.
const RAW_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const buf = Buffer.alloc(4096);
for (const f of workerData.files) { const fd = fs.openSync(f, 'r'); fs.readSync(fd, buf, 0, 4096, 0); fs.closeSync(fd); }
parentPort.postMessage('done');`;

async function rawFilesPerS(paths: string[], threads: number): Promise<number> {
  return paths.length / (await onShares(RAW_WORKER, paths, threads));
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

function runProcess(cmd: string, args: string[], input?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: [input ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d) => (err += d));
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolve(0) : reject(new Error(`${cmd} exited ${code}: ${err.slice(0, 300)}`))));
    if (input) p.stdin!.end(input);
  });
}

/** soxi, batched: one process per few thousand files, `threads` processes at a time. */
async function soxi(paths: string[], threads: number): Promise<number | string> {
  if (spawnSync('soxi', ['-V0'], { stdio: 'ignore' }).error) return 'not installed (apt-get install -y sox)';
  const share = Math.ceil(paths.length / threads);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: threads }, async (_, i) => {
      const mine = paths.slice(i * share, (i + 1) * share);
      for (let k = 0; k < mine.length; k += 4000) await runProcess('soxi', ['-D', ...mine.slice(k, k + 4000)]);
    }),
  );
  return paths.length / ((performance.now() - t0) / 1000);
}

/** Python's soundfile.info (what Lhotse uses), `threads` interpreters on a share of the list each. */
async function soundfile(paths: string[], threads: number): Promise<number | string> {
  const py = '/usr/bin/python3';
  if (spawnSync(py, ['-c', 'import soundfile'], { stdio: 'ignore' }).status !== 0) return 'not installed (apt-get install -y python3-soundfile)';
  const script = 'import sys, soundfile\nfor line in sys.stdin:\n    soundfile.info(line.rstrip("\\n"))\n';
  const share = Math.ceil(paths.length / threads);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: threads }, (_, i) => runProcess(py, ['-c', script], paths.slice(i * share, (i + 1) * share).join('\n') + '\n')));
  return paths.length / ((performance.now() - t0) / 1000);
}

/** music-metadata's parseFile, 16 in flight. */
async function musicMetadata(paths: string[]): Promise<number | string> {
  let mm: typeof import('music-metadata');
  try {
    mm = await import('music-metadata');
  } catch {
    return 'not installed (npm i -D music-metadata@11; 12 needs Node 22)';
  }
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < paths.length) await mm.parseFile(paths[next++]!, { duration: false, skipCovers: true });
    }),
  );
  return paths.length / ((performance.now() - t0) / 1000);
}

/** The raw limit on one thread, on this (the bench's own) thread: open, read 4 KiB, close. */
function rawOneThread(paths: string[]): number {
  const buf = Buffer.alloc(4096);
  const t0 = performance.now();
  for (const f of paths) {
    const fd = fs.openSync(f, 'r');
    fs.readSync(fd, buf, 0, 4096, 0);
    fs.closeSync(fd);
  }
  return paths.length / ((performance.now() - t0) / 1000);
}

const worst = (xs: number[]): number => Math.min(...xs);

/** Waits until the service's background work for earlier scans (the catalog's indexing) is done. */
async function settled(svc: SingleService): Promise<void> {
  await svc.stores.database.maintenance?.catchUp();
}
const fmt = (xs: number[]): string => xs.map((x) => `${x.toFixed(2)}×`).join(', ');

/**
 * One tree: `runs` rounds, warm, each measuring the raw loop, our scan and soxi back to back, so
 * that each round's ratios come from one moment of a shared machine; a target is met only when
 * every round meets it (the issue: three runs out of three). Then the same cold, each after a
 * fresh drop of the page cache.
 */
async function oneTree(o: HeaderOptions, files: number, seed: number, peersOnce: boolean): Promise<Metric[]> {
  const corpus = ensureCorpus({ dir: o.corpusDir, files, minS: 0.2, maxS: 1.0, transcripts: true, seed });
  const paths = corpus.files.map((f) => path.join(corpus.root, f));
  const tree = `${files.toLocaleString('en')} files`;
  const raw1: number[] = [];
  const raw2: number[] = [];
  const ours: number[] = [];
  const soxiRates: number[] = [];
  let soxiNote: string | null = null;
  const findS: number[] = [];
  /** Later rounds (the smaller tree's, or the only tree's): our scan, the raw loop and soxi, once the service has scanned the tree `o.runs + 1` times. */
  const later: { ours: number; soxi: number; raw: number }[] = [];
  await withService({ SCAN_WORKERS: o.workers, MAX_CONCURRENT_SCANS: 1 }, async (svc) => {
    // Warm the page cache, the JIT and the service (its threads, statements) once.
    rawOneThread(paths);
    await timedScan(svc, { libritts_path: corpus.root, analysis: 'header' });
    const s0 = await soxi(paths, o.workers);
    if (typeof s0 === 'string') soxiNote = s0;
    const ourRate = async () => files / (await timedScan(svc, { libritts_path: corpus.root, analysis: 'header' })).totalS;
    const findTime = () => timed(() => runProcess('find', [corpus.root, '-type', 'f', '-iname', '*.wav']));
    for (let i = 0; i < o.runs; i++) {
      // Every measurement starts on a quiet machine: the service indexes a scan's rows for
      // filtering in the background once it ends (~30 µs a row), which would otherwise run
      // during the next round's raw loop and soxi, and hold the write lock at our next scan's start.
      await settled(svc);
      raw1.push(rawOneThread(paths));
      raw2.push(await rawFilesPerS(paths, o.workers));
      ours.push(await ourRate());
      await settled(svc);
      findS.push(await findTime());
      if (!soxiNote) soxiRates.push((await soxi(paths, o.workers)) as number);
    }
    // The verdict is the rounds above. These say what the small tree's shortfall is made of: a
    // 5,000-file scan is too short to warm the JIT of every thread in one go (its rounds rise one
    // after the other), so the same comparison is repeated once the service has scanned it more.
    if (!peersOnce || soxiNote) return;
    for (let i = 0; i < o.runs; i++) {
      await settled(svc);
      const raw = rawOneThread(paths);
      const rate = await ourRate();
      await settled(svc);
      const find = await findTime();
      later.push({ ours: rate, raw, soxi: 1 / (1 / ((await soxi(paths, o.workers)) as number) + find / files) });
    }
  });
  const vsRaw = ours.map((x, i) => x / raw1[i]!);
  // Peers are handed a file list; each is charged a `find` of the same tree from its round, so
  // that both sides do the same job (our figure includes discovery: POST to completed).
  const soxiFind = soxiRates.map((r, i) => 1 / (1 / r + findS[i]! / files));
  const vsSoxi = ours.map((x, i) => x / soxiFind[i]!);
  const metrics: Metric[] = [
    { label: `${tree}: raw open+read 4 KiB+close, 1 thread (warm)`, value: median(raw1), unit: 'files/s', note: `2 threads: ${Math.round(median(raw2))} files/s` },
    {
      label: `${tree}: header scan, POST to completed incl. discovery (warm)`,
      value: median(ours),
      unit: 'files/s',
      baseline: { label: 'raw, 1 thread', value: median(raw1) },
      ratio: median(vsRaw),
      target: '≥ 0.7× raw (1 thread), every round',
      pass: worst(vsRaw) >= 0.7,
      note: `rounds: ${fmt(vsRaw)}`,
    },
  ];
  if (soxiNote) metrics.push({ label: `${tree}: peer: soxi -D, batched`, value: null, unit: 'files/s', note: soxiNote, pass: null });
  else
    metrics.push({
      label: `${tree}: peer: soxi -D, batched, + find (warm)`,
      value: median(soxiFind),
      unit: 'files/s',
      baseline: { label: 'our scan', value: median(ours) },
      ratio: median(vsSoxi),
      target: 'we are faster (ratio > 1), every round',
      pass: worst(vsSoxi) > 1,
      note: `rounds: ${fmt(vsSoxi)}; ${Math.round(median(soxiRates))} files/s on a given list`,
    });
  if (later.length) {
    const vs = later.map((r) => r.ours / r.soxi);
    metrics.push({
      label: `${tree}: our scan vs soxi -D + find, later rounds (the service's scans ${o.runs + 2}–${2 * o.runs + 1} of this tree; warm)`,
      value: median(later.map((r) => r.ours)),
      unit: 'files/s',
      baseline: { label: 'soxi -D + find, same rounds', value: median(later.map((r) => r.soxi)) },
      ratio: median(vs),
      note: `rounds: ${fmt(vs)}; against the raw loop ${fmt(later.map((r) => r.ours / r.raw))}; for what limits the rounds above, not a verdict`,
      pass: null,
    });
  }
  const findMean = findS.reduce((a, b) => a + b, 0) / findS.length;
  const warm = async (run: () => Promise<number | string>) => {
    const first = await run();
    return typeof first === 'string' ? first : run();
  };
  // Slower peers, once each (a warm-up pass first: they read more of each file than we do).
  const peers: [string, () => Promise<number | string>][] = [['peer: python soundfile.info', () => soundfile(paths, o.workers)]];
  if (peersOnce) peers.push(['peer: music-metadata parseFile (≤ 5,000 files)', () => musicMetadata(paths.slice(0, 5000))]);
  for (const [label, run] of peers) {
    const rate = await warm(run);
    if (typeof rate === 'string') {
      metrics.push({ label: `${tree}: ${label}`, value: null, unit: 'files/s', note: rate, target: 'slower than us', pass: null });
      continue;
    }
    const v = 1 / (1 / rate + findMean / files);
    metrics.push({
      label: `${tree}: ${label} + find (warm)`,
      value: v,
      unit: 'files/s',
      baseline: { label: 'our scan', value: median(ours) },
      ratio: ratio(median(ours), v),
      target: 'we are faster (ratio > 1)',
      pass: median(ours) > v,
      note: `${Math.round(rate)} files/s on a given list`,
    });
  }

  // Cold: what "cold" means here is after `echo 3 > /proc/sys/vm/drop_caches`, which empties this
  // (virtual) machine's page cache, not a cache its host's storage may keep. Every measurement
  // gets a fresh drop; peers are handed the file list (no find), ours includes discovery.
  if (o.cold && dropCaches()) {
    const c = { raw: [] as number[], ours: [] as number[], soxi: [] as number[], soundfile: [] as number[] };
    let notes = '';
    // A running service meets a dataset it has not read: the service is started and has scanned
    // once before the cache is dropped, as soxi's own binary is on disk, not in a fresh process.
    await withService({ SCAN_WORKERS: o.workers, MAX_CONCURRENT_SCANS: 1 }, async (svc) => {
      await timedScan(svc, { libritts_path: corpus.root, analysis: 'header' });
      for (let i = 0; i < o.runs; i++) {
        await settled(svc);
        dropCaches();
        c.raw.push(rawOneThread(paths));
        dropCaches();
        c.ours.push(files / (await timedScan(svc, { libritts_path: corpus.root, analysis: 'header' })).totalS);
        for (const [key, run] of [
          ['soxi', () => soxi(paths, o.workers)],
          ['soundfile', () => soundfile(paths, o.workers)],
        ] as const) {
          dropCaches();
          const v = await run();
          if (typeof v === 'string') notes = v;
          else c[key].push(v);
        }
      }
    });
    const vsRawCold = c.ours.map((x, i) => x / c.raw[i]!);
    metrics.push(
      { label: `${tree}: raw open+read+close, 1 thread (cold)`, value: median(c.raw), unit: 'files/s' },
      {
        label: `${tree}: header scan, POST to completed (cold)`,
        value: median(c.ours),
        unit: 'files/s',
        baseline: { label: 'raw cold', value: median(c.raw) },
        ratio: median(vsRawCold),
        target: '≥ 0.7× raw, every round',
        pass: worst(vsRawCold) >= 0.7,
        note: `rounds: ${fmt(vsRawCold)}`,
      },
    );
    for (const key of ['soxi', 'soundfile'] as const) {
      if (c[key].length !== c.ours.length) {
        metrics.push({ label: `${tree}: peer: ${key} (cold)`, value: null, unit: 'files/s', note: notes, pass: null });
        continue;
      }
      const vs = c.ours.map((x, i) => x / c[key][i]!);
      metrics.push({
        label: `${tree}: peer: ${key === 'soxi' ? 'soxi -D, batched' : 'python soundfile.info'} (cold)`,
        value: median(c[key]),
        unit: 'files/s',
        baseline: { label: 'our scan cold', value: median(c.ours) },
        ratio: median(vs),
        target: 'we are faster (ratio > 1), every round',
        pass: worst(vs) > 1,
        note: `rounds: ${fmt(vs)}; on a given list, no find`,
      });
    }
  }
  return metrics;
}

export async function headerBench(o: HeaderOptions): Promise<BenchResult> {
  const started = performance.now();
  const metrics: Metric[] = [];
  // The two sizes: at 5,000 files the fixed costs of a scan (thread wake-up, statements,
  // the first batch) weigh; at 50,000 the per-file costs do.
  if (o.smallFiles > 0) metrics.push(...(await oneTree(o, o.smallFiles, 5, true)));
  metrics.push(...(await oneTree(o, o.files, 7, o.smallFiles <= 0)));
  return {
    name: 'header',
    params: { files: o.files, smallFiles: o.smallFiles, workers: o.workers, runs: o.runs, transcripts: true },
    metrics,
    seconds: (performance.now() - started) / 1000,
  };
}
