import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { BenchResult } from '../../bench/lib/report.ts';
import { tempDir } from '../helpers/libritts-tree.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('benchmarks (smoke run at tiny sizes, so they cannot rot)', () => {
  it('every benchmark runs and reports its figures and baselines', () => {
    const dir = tempDir('vl-bench-smoke-');
    const out = path.join(dir, 'smoke.json');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--corpus', path.join(dir, 'corpus'), '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\| benchmark \| metric/);
    const report = JSON.parse(fs.readFileSync(out, 'utf8')) as { results: BenchResult[]; machine: { cpus: number } };
    expect(report.results.map((x) => x.name)).toEqual(['header', 'full', 'latency', 'sse', 'memory', 'library', 'reuse', 'cluster']);
    const metric = (bench: string, label: RegExp) => report.results.find((x) => x.name === bench)!.metrics.find((m) => label.test(m.label))!;
    // Baselines are measured in the same run and ratios computed against them.
    for (const [bench, label] of [
      ['header', /^[\d,]+ files: header scan, POST to completed incl. discovery \(warm\)/],
      ['full', /^scaling/],
      ['latency', /^POST p99, two full scans/],
      ['memory', /^peak RSS scanning 2,000/],
      ['cluster', /^cluster full analysis, 2 worker processes/],
      ['full', /^int16 statistics alone, WebAssembly SIMD kernel/],
      ['library', /^sort -snr_db: first page/],
    ] as const) {
      const m = metric(bench, label);
      expect(m.value, `${bench}: ${m.label}`).toBeGreaterThan(0);
      expect(m.baseline!.value).toBeGreaterThan(0);
      expect(m.ratio).toBeCloseTo(m.value! / m.baseline!.value!, 5);
    }
    expect(metric('sse', /clients on one task: got the terminal/).value).toBe(20);
    expect(metric('sse', /tasks × 3 clients: got the terminal/).value).toBe(12);
    expect(metric('latency', /event-loop delay/).value).toBeGreaterThan(0);
    expect(metric('full', /SNR’s share of full analysis/).value).not.toBeNull();
    // "× faster": the first scan's time over the rescan's.
    const rescan = metric('reuse', /^full: rescan of the unchanged tree/);
    expect(rescan.value).toBeGreaterThan(0);
    expect(rescan.ratio).toBeCloseTo(rescan.baseline!.value! / rescan.value!, 5);
    // The later rounds are compared with soxi in the same rounds, wherever soxi is installed.
    const later = metric('header', /our scan vs soxi -D \+ find, later rounds/);
    const soxiMissing = report.results[0]!.metrics.some((m) => /peer: soxi -D, batched$/.test(m.label));
    if (!soxiMissing) expect(later.ratio).toBeCloseTo(later.value! / later.baseline!.value!, 5);
    // Peers are either measured or reported as missing, never dropped.
    const peers = report.results[0]!.metrics.filter((m) => / peer: /.test(m.label) && !m.label.includes('(cold)'));
    expect(peers).toHaveLength(3);
    for (const p of peers) expect(p.value !== null || /not installed/.test(p.note ?? '')).toBe(true);
  }, 300_000);
});
