// Shapes and printing of benchmark results: every figure is a ratio to a baseline from the same
// run, or a latency percentile.

export interface Metric {
  label: string;
  value: number | null;
  unit: string;
  /** What the value is compared with, measured in the same run. */
  baseline?: { label: string; value: number | null };
  ratio?: number | null;
  /** The target this metric must meet, in words, and whether it does. */
  target?: string;
  pass?: boolean | null;
  note?: string;
}

export interface BenchResult {
  name: string;
  params: Record<string, unknown>;
  metrics: Metric[];
  seconds: number;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const median = (xs: number[]): number => percentile([...xs].sort((a, b) => a - b), 50);

export const ratio = (a: number | null, b: number | null): number | null => (a === null || b === null || b === 0 ? null : a / b);

const fmt = (v: number | null | undefined, digits = 1): string => {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(digits);
};

/** A plain-text table of every metric, with ratios and pass/fail against the targets. */
export function table(results: BenchResult[]): string {
  const rows: string[][] = [['benchmark', 'metric', 'value', 'baseline', 'ratio', 'target', 'ok']];
  for (const r of results) {
    for (const m of r.metrics) {
      rows.push([
        r.name,
        m.label,
        `${fmt(m.value)} ${m.unit}`.trim(),
        m.baseline ? `${m.baseline.label}: ${fmt(m.baseline.value)}` : '',
        m.ratio === undefined ? '' : m.ratio === null ? '–' : `${m.ratio.toFixed(2)}×`,
        m.target ?? '',
        m.pass === undefined ? '' : m.pass === null ? 'n/a' : m.pass ? 'yes' : 'NO',
      ]);
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}
