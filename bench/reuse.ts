// Incremental rescans: a rescan of an unchanged tree against the first scan of it, full analysis
// and header only, from a warm cache (the first scan's best case, so the ratio is the least), and
// for full analysis from a cold one too (both scans after dropping the page cache: a dataset
// scanned last week and rescanned today).
import fs from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ensureCorpus } from './lib/corpus.ts';
import { timedScan, withService } from './lib/inprocess.ts';
import { median, ratio, type BenchResult, type Metric } from './lib/report.ts';
import { dropCaches } from './lib/server.ts';

export interface ReuseOptions {
  corpusDir: string;
  fullMegabytes: number;
  headerFiles: number;
  runs: number;
  cold: boolean;
}

/** Corpus files are settled long before (racy.ts): a rescan may reuse them. */
function settle(root: string): void {
  const old = new Date(Date.now() - 3600_000);
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile() && fs.statSync(full).mtimeMs > old.getTime()) fs.utimesSync(full, old, old);
    }
  };
  walk(root);
}

export async function reuseBench(o: ReuseOptions): Promise<BenchResult> {
  const started = performance.now();
  const metrics: Metric[] = [];
  const corpora = [
    { analysis: 'full' as const, corpus: ensureCorpus({ dir: o.corpusDir, files: Math.max(20, Math.ceil((o.fullMegabytes * 1e6) / (8 * 48000))), minS: 1, maxS: 15, transcripts: true, seed: 11 }) },
    { analysis: 'header' as const, corpus: ensureCorpus({ dir: o.corpusDir, files: o.headerFiles, minS: 0.05, maxS: 0.3, transcripts: true, seed: 3 }) },
  ];
  for (const { analysis, corpus } of corpora) {
    settle(corpus.root);
    await withService({ SCAN_WORKERS: 2 }, async (svc) => {
      await timedScan(svc, { libritts_path: corpus.root, analysis }); // warm the page cache
      const first: number[] = [];
      const again: number[] = [];
      let reused = 0;
      // The service's own thread during the rescans: copying rows must not hold up its requests.
      // A monitor per rescan: one enabled again counts the time it was off as one long delay.
      const loops: { p99: number; max: number }[] = [];
      for (let i = 0; i < o.runs; i++) {
        first.push((await timedScan(svc, { libritts_path: corpus.root, analysis })).totalS);
        const loop = monitorEventLoopDelay({ resolution: 5 });
        loop.enable();
        const t = await timedScan(svc, { libritts_path: corpus.root, analysis, reuse: 'auto' });
        loop.disable();
        loops.push({ p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 });
        again.push(t.totalS);
        reused = t.snapshot.files_reused / t.snapshot.files_done;
      }
      const a = median(first);
      const b = median(again);
      metrics.push({ label: `${analysis}: first scan of ${corpus.files.length.toLocaleString('en-US')} files (warm), POST to completed`, value: a, unit: 's' });
      metrics.push({
        label: `${analysis}: rescan of the unchanged tree (${Math.round(reused * 100)}% reused, 0 bytes read)`,
        value: b,
        unit: 's',
        baseline: { label: 'first scan', value: a },
        ratio: ratio(a, b),
        ...(analysis === 'full' ? { target: '≥ 5× faster', pass: a / b >= 5 } : {}),
        note: 'ratio = first / rescan',
      });
      const p99 = Math.max(...loops.map((l) => l.p99));
      metrics.push({
        label: `${analysis}: event-loop delay p99 during a rescan (the worst of ${loops.length})`,
        value: p99,
        unit: 'ms',
        target: '≤ 20 ms',
        pass: p99 <= 20,
        note: `max ${Math.max(...loops.map((l) => l.max)).toFixed(1)} ms`,
      });
      if (analysis === 'full' && o.cold && dropCaches()) {
        const coldFirst = (await timedScan(svc, { libritts_path: corpus.root, analysis })).totalS;
        dropCaches();
        const coldAgain = (await timedScan(svc, { libritts_path: corpus.root, analysis, reuse: 'auto' })).totalS;
        metrics.push({ label: `${analysis}: first scan (cold cache), POST to completed`, value: coldFirst, unit: 's' });
        metrics.push({
          label: `${analysis}: rescan of the unchanged tree (cold cache)`,
          value: coldAgain,
          unit: 's',
          baseline: { label: 'first scan cold', value: coldFirst },
          ratio: ratio(coldFirst, coldAgain),
          target: '≥ 5× faster',
          pass: coldFirst / coldAgain >= 5,
          note: 'ratio = first / rescan',
        });
      }
    });
  }
  return { name: 'reuse', params: { fullMegabytes: o.fullMegabytes, headerFiles: o.headerFiles, runs: o.runs }, metrics, seconds: (performance.now() - started) / 1000 };
}
