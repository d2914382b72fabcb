import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { tally, type FileResult } from './domain/file-result.ts';
import { TASK_STATUSES, type TaskSnapshot, type TaskStatus } from './domain/task.ts';

/** What the metrics read when scraped: the tasks by status, and the queue. */
export interface MetricSources {
  tasksByStatus?: () => Promise<Record<TaskStatus, number>>;
  queueDepth?: () => Promise<{ queued: number; running: number }>;
}

/**
 * This process's Prometheus metrics (`GET /metrics`), in a registry of its own so that several
 * services in one process (tests) do not collide. In a cluster every process exposes its own:
 * API processes count HTTP and streams, workers count files; scrape them all.
 */
export class Metrics {
  readonly registry = new Registry();
  /** Files scanned, by outcome: `ok`, a file error code, or `reused` (copied from an earlier scan). */
  readonly files: Counter<'outcome'>;
  /** Bytes of the files scanned (what `bytes_done` counts). */
  readonly bytes: Counter;
  readonly scanDuration: Histogram<'analysis' | 'status'>;
  readonly scanRate: Histogram<'analysis'>;
  readonly sseOpen: Gauge;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;

  constructor(sources: MetricSources = {}) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // prom-client names three gauges `_total`, which Prometheus reserves for counters (promtool
    // rejects them); their per-type twins (`nodejs_active_handles{type}`, …) stay.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    this.files = new Counter({ name: 'vl_files_scanned_total', help: 'Files scanned, by outcome: ok, a file error code, or reused', labelNames: ['outcome'], registers });
    this.bytes = new Counter({ name: 'vl_scanned_bytes_total', help: 'Bytes of the files scanned (the snapshot’s bytes_done); reused files add nothing', registers });
    this.scanDuration = new Histogram({
      name: 'vl_scan_duration_seconds',
      help: 'Time from a task’s start to its end, by analysis and final status',
      labelNames: ['analysis', 'status'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400],
      registers,
    });
    this.scanRate = new Histogram({
      name: 'vl_scan_files_per_second',
      help: 'Files per second of each completed scan, by analysis',
      labelNames: ['analysis'],
      buckets: [100, 500, 1000, 5000, 10_000, 25_000, 50_000, 100_000, 250_000],
      registers,
    });
    this.sseOpen = new Gauge({ name: 'vl_sse_streams_open', help: 'Server-Sent Events streams open on this process', registers });
    this.httpRequests = new Counter({
      name: 'vl_http_requests_total',
      help: 'HTTP requests by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'vl_http_request_duration_seconds',
      help: 'Time to the response headers, by method and route pattern (a stream’s length is not counted)',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    const { tasksByStatus, queueDepth } = sources;
    if (tasksByStatus) {
      new Gauge({
        name: 'vl_tasks',
        help: 'Tasks in the store, by status',
        labelNames: ['status'],
        registers,
        async collect() {
          const counts = await tasksByStatus().catch(() => null);
          for (const s of TASK_STATUSES) if (counts) this.set({ status: s }, counts[s]);
        },
      });
    }
    if (queueDepth) {
      new Gauge({
        name: 'vl_queue_depth',
        help: 'Tasks waiting for a scan slot (cluster: for any worker)',
        registers,
        async collect() {
          const d = await queueDepth().catch(() => null);
          if (d) this.set(d.queued);
        },
      });
    }
  }

  /** Counts rows just read from disk (not those an earlier run recorded). */
  scanned(rows: readonly FileResult[]): void {
    const t = tally(rows);
    this.scannedOutcomes(t.outcomes, t.bytes);
  }

  /** The same, from counts by outcome (rows a scan thread recorded itself). */
  scannedOutcomes(outcomes: Record<string, number>, bytes: number): void {
    for (const [outcome, n] of Object.entries(outcomes)) this.files.inc({ outcome }, n);
    if (bytes) this.bytes.inc(bytes);
  }

  /** Counts files copied from an earlier scan instead of read. */
  reused(n: number): void {
    if (n) this.files.inc({ outcome: 'reused' }, n);
  }

  /** Records a task that has ended. */
  ended(s: TaskSnapshot): void {
    if (!s.started_at || !s.finished_at) return;
    const seconds = Math.max(0, (Date.parse(s.finished_at) - Date.parse(s.started_at)) / 1000);
    this.scanDuration.observe({ analysis: s.analysis, status: s.status }, seconds);
    if (s.status === 'completed' && seconds > 0) this.scanRate.observe({ analysis: s.analysis }, s.files_done / seconds);
  }
}
