// Memory growth: peak RSS of a fresh server scanning a small and a 10× larger tree (header mode).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureCorpus } from './lib/corpus.ts';
import { ratio, type BenchResult } from './lib/report.ts';
import { postScan, startServer, waitTask } from './lib/server.ts';

export interface MemoryOptions {
  small: number;
  large: number;
  corpusDir: string;
}

async function peakRss(root: string, dbDir: string, name: string): Promise<{ peak: number; idle: number; files: number }> {
  const server = await startServer({ DB_PATH: path.join(dbDir, `${name}.db`), SCAN_WORKERS: '2' });
  try {
    const idle = server.rssMb();
    const id = await postScan(server.url, { libritts_path: root, analysis: 'header' });
    const snap = await waitTask(server.url, id);
    return { peak: server.peakRssMb(), idle, files: Number(snap.files_done) };
  } finally {
    await server.stop();
  }
}

export async function memoryBench(o: MemoryOptions): Promise<BenchResult> {
  const started = performance.now();
  const small = ensureCorpus({ dir: o.corpusDir, files: o.small, minS: 0.02, maxS: 0.05, seed: 5 });
  const large = ensureCorpus({ dir: o.corpusDir, files: o.large, minS: 0.02, maxS: 0.05, seed: 5 });
  const dbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vl-bench-mem-'));
  const a = await peakRss(small.root, dbDir, 'small');
  const b = await peakRss(large.root, dbDir, 'large');
  fs.rmSync(dbDir, { recursive: true, force: true });
  return {
    name: 'memory',
    params: { small: o.small, large: o.large, analysis: 'header' },
    seconds: (performance.now() - started) / 1000,
    metrics: [
      { label: `peak RSS scanning ${o.small.toLocaleString('en-US')} files`, value: a.peak, unit: 'MB', note: `server at rest ${a.idle.toFixed(0)} MB; ${a.files} files scanned` },
      {
        label: `peak RSS scanning ${o.large.toLocaleString('en-US')} files`,
        value: b.peak,
        unit: 'MB',
        baseline: { label: `${o.small} files`, value: a.peak },
        ratio: ratio(b.peak, a.peak),
        target: '≤ 1.5×',
        pass: (ratio(b.peak, a.peak) ?? 99) <= 1.5,
        note: `${b.files} files scanned`,
      },
    ],
  };
}
