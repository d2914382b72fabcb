// Header scan throughput against the raw open+read+close limit and against peer tools.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { ensureCorpus } from './lib/corpus.ts';
import { withService, timedScan } from './lib/inprocess.ts';
import { median, ratio, type BenchResult, type Metric } from './lib/report.ts';
import { dropCaches } from './lib/server.ts';
import { onShares } from './lib/threads.ts';

export interface HeaderOptions {
  files: number;
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

export async function headerBench(o: HeaderOptions): Promise<BenchResult> {
  const started = performance.now();
  const corpus = ensureCorpus({ dir: o.corpusDir, files: o.files, minS: 0.2, maxS: 1.0, transcripts: true, seed: 7 });
  const paths = corpus.files.map((f) => path.join(corpus.root, f));

  const raw: number[] = [];
  const endToEnd: number[] = [];
  await withService({ SCAN_WORKERS: o.workers, MAX_CONCURRENT_SCANS: 1 }, async (svc) => {
    await rawFilesPerS(paths, o.workers); // warm the page cache and the JIT
    await timedScan(svc, { libritts_path: corpus.root, analysis: 'header' });
    for (let i = 0; i < o.runs; i++) {
      raw.push(await rawFilesPerS(paths, o.workers));
      const t = await timedScan(svc, { libritts_path: corpus.root, analysis: 'header' });
      endToEnd.push(o.files / t.totalS);
    }
  });
  const rawW = median(raw);
  const ours = median(endToEnd);
  // Discovery and reading overlap, so the honest figure is the whole job: POST to completed,
  // listing the tree included. Peers are handed a file list; they are charged a `find` of the
  // same tree, measured in the same run, so that both sides do the same job.
  const metrics: Metric[] = [
    { label: `raw open+read 4 KiB+close, ${o.workers} threads (warm cache)`, value: rawW, unit: 'files/s' },
    { label: 'header scan, POST to completed incl. discovery (warm)', value: ours, unit: 'files/s', baseline: { label: 'raw', value: rawW }, ratio: ratio(ours, rawW), target: '≥ 0.7× raw', pass: (ratio(ours, rawW) ?? 0) >= 0.7 },
  ];
  // Peers run while the cache is as warm as it was for us; the cold runs come last.
  await rawFilesPerS(paths, o.workers);
  const findS = await timed(() => runProcess('find', [corpus.root, '-type', 'f', '-iname', '*.wav']));
  // Each peer gets a warm-up pass first, as our scan did: soxi and soundfile read more of each
  // file than a 4 KiB header, and would otherwise be timed on pages our scan never touched.
  const warm = async (run: () => Promise<number | string>) => {
    const first = await run();
    return typeof first === 'string' ? first : run();
  };
  const peers: [string, number | string][] = [
    ['peer: soxi -D, batched', await warm(() => soxi(paths, o.workers))],
    ['peer: python soundfile.info', await warm(() => soundfile(paths, o.workers))],
    ['peer: music-metadata parseFile (≤ 5,000 files)', await warm(() => musicMetadata(paths.slice(0, 5000)))],
  ];
  for (const [label, rate] of peers) {
    if (typeof rate === 'string') {
      metrics.push({ label, value: null, unit: 'files/s', note: rate, target: 'slower than us', pass: null });
      continue;
    }
    const v = 1 / (1 / rate + findS / o.files); // the peer's own rate, plus listing the tree with find
    metrics.push({ label: `${label} + find`, value: v, unit: 'files/s', baseline: { label: 'our scan', value: ours }, ratio: ratio(ours, v), target: 'we are faster (ratio > 1)', pass: ours > v, note: `${Math.round(rate)} files/s on a given list` });
  }
  if (o.cold && dropCaches()) {
    const coldRaw = await rawFilesPerS(paths, o.workers);
    dropCaches();
    const coldScan = await withService({ SCAN_WORKERS: o.workers }, (svc) => timedScan(svc, { libritts_path: corpus.root, analysis: 'header' }));
    metrics.push(
      { label: `raw open+read+close, ${o.workers} threads (cold cache)`, value: coldRaw, unit: 'files/s' },
      {
        label: 'header scan, POST to completed (cold cache)',
        value: o.files / coldScan.totalS,
        unit: 'files/s',
        baseline: { label: 'raw cold', value: coldRaw },
        ratio: ratio(o.files / coldScan.totalS, coldRaw),
        target: '≥ 0.7× raw',
        pass: (ratio(o.files / coldScan.totalS, coldRaw) ?? 0) >= 0.7,
      },
    );
  }

  // A first scan of a dataset meets a cold cache: the peers there too, each after a fresh drop.
  if (o.cold) {
    const coldOurs = metrics.find((m) => m.label.startsWith('header scan, POST to completed (cold'))?.value ?? null;
    for (const [label, run] of [
      ['peer: soxi -D, batched (cold cache)', () => soxi(paths, o.workers)],
      ['peer: python soundfile.info (cold cache)', () => soundfile(paths, o.workers)],
    ] as const) {
      if (!dropCaches()) break;
      const v = await run();
      if (typeof v === 'string') metrics.push({ label, value: null, unit: 'files/s', note: v, pass: null });
      else metrics.push({ label, value: v, unit: 'files/s', baseline: { label: 'our scan cold', value: coldOurs }, ratio: ratio(coldOurs, v), target: 'we are faster (ratio > 1)', pass: coldOurs !== null && coldOurs > v, note: 'on a given list, no find' });
    }
  }
  return { name: 'header', params: { files: o.files, workers: o.workers, runs: o.runs, transcripts: true }, metrics, seconds: (performance.now() - started) / 1000 };
}
