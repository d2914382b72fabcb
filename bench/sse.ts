// SSE fan-out: many clients on one task, and many tasks with a few clients each, against a real
// server process; delivery delay measured from the server's own emission times (debug log).
import path from 'node:path';
import os from 'node:os';
import fs from 'node:fs';
import { ensureCorpus } from './lib/corpus.ts';
import { percentile, type BenchResult } from './lib/report.ts';
import { postScan, startServer, type BenchServer } from './lib/server.ts';

export interface SseOptions {
  clients: number;
  tasks: number;
  clientsPerTask: number;
  corpusDir: string;
  fullMegabytes: number;
}

interface ClientLog {
  events: { type: string; id: number; at: number }[];
  error: string | null;
}

const now = () => performance.timeOrigin + performance.now();

async function follow(url: string, id: string): Promise<ClientLog> {
  const log: ClientLog = { events: [], error: null };
  try {
    const res = await fetch(`${url}/api/voice-library/scan-events/${id}`);
    if (res.status !== 200) return { ...log, error: `HTTP ${res.status}` };
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        const type = /^event: (.+)$/m.exec(frame)?.[1];
        const eid = /^id: (\d+)$/m.exec(frame)?.[1];
        if (type && eid) log.events.push({ type, id: Number(eid), at: now() });
      }
    }
  } catch (err) {
    log.error = String(err);
  }
  return log;
}

function check(logs: ClientLog[]) {
  let complete = 0;
  let backwards = 0;
  for (const l of logs) {
    const last = l.events[l.events.length - 1];
    if (!l.error && last && ['completed', 'failed', 'cancelled'].includes(last.type)) complete++;
    for (let i = 1; i < l.events.length; i++) if (l.events[i]!.id < l.events[i - 1]!.id) backwards++;
  }
  return { complete, backwards };
}

/** Emission time of each (task, event id), from the server's debug log. */
function emissions(server: BenchServer): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of server.logs) if (l.msg === 'task event') m.set(`${l.task_id}:${l.id}`, Number(l.at_ms));
  return m;
}

export async function sseBench(o: SseOptions): Promise<BenchResult> {
  const started = performance.now();
  const full = ensureCorpus({ dir: o.corpusDir, files: Math.max(20, Math.ceil((o.fullMegabytes * 1e6) / (8 * 48000))), minS: 1, maxS: 15, transcripts: true, seed: 11 });
  const small = ensureCorpus({ dir: o.corpusDir, files: 400, minS: 0.2, maxS: 1, transcripts: true, seed: 3 });
  const dbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vl-bench-sse-'));

  // 1. Many clients on one task, connected while it is queued so that they see all of it.
  const one = await startServer({ DB_PATH: path.join(dbDir, 'one.db'), LOG_LEVEL: 'debug', MAX_CONCURRENT_SCANS: '1', SCAN_WORKERS: '2' });
  let fan;
  try {
    const blocker = await postScan(one.url, { libritts_path: small.root, analysis: 'full' });
    const id = await postScan(one.url, { libritts_path: full.root, analysis: 'full' });
    void blocker;
    const logs = await Promise.all(Array.from({ length: o.clients }, () => follow(one.url, id)));
    const emitted = emissions(one);
    const delays: number[] = [];
    for (const l of logs) for (const e of l.events) if (e.type === 'progress' && emitted.has(`${id}:${e.id}`)) delays.push(e.at - emitted.get(`${id}:${e.id}`)!);
    delays.sort((a, b) => a - b);
    fan = { ...check(logs), delays, rss: one.rssMb(), peak: one.peakRssMb(), errors: logs.filter((l) => l.error).map((l) => l.error) };
  } finally {
    await one.stop();
  }

  // 2. Many tasks, a few clients each.
  const many = await startServer({ DB_PATH: path.join(dbDir, 'many.db'), MAX_QUEUED_SCANS: String(o.tasks + 10), SCAN_WORKERS: '2' });
  let spread;
  try {
    const ids: string[] = [];
    for (let i = 0; i < o.tasks; i++) ids.push(await postScan(many.url, { libritts_path: small.root, analysis: 'header' }));
    const logs = await Promise.all(ids.flatMap((id) => Array.from({ length: o.clientsPerTask }, () => follow(many.url, id))));
    spread = { ...check(logs), total: logs.length, peak: many.peakRssMb() };
  } finally {
    await many.stop();
  }
  fs.rmSync(dbDir, { recursive: true, force: true });

  const p99 = percentile(fan.delays, 99);
  return {
    name: 'sse',
    params: { clients: o.clients, tasks: o.tasks, clients_per_task: o.clientsPerTask, full_mb: Math.round(full.bytes / 1e6) },
    seconds: (performance.now() - started) / 1000,
    metrics: [
      { label: `${o.clients} clients on one task: got the terminal event`, value: fan.complete, unit: `of ${o.clients}`, target: 'all', pass: fan.complete === o.clients, note: fan.errors.length ? `errors: ${[...new Set(fan.errors)].slice(0, 3).join('; ')}` : undefined },
      { label: `${o.clients} clients: ids going backwards`, value: fan.backwards, unit: 'times', target: '0', pass: fan.backwards === 0 },
      { label: 'progress delivery delay p50 (emission → client)', value: percentile(fan.delays, 50), unit: 'ms' },
      { label: 'progress delivery delay p99 (emission → client)', value: p99, unit: 'ms', target: '≤ 100 ms', pass: p99 <= 100, note: `${fan.delays.length} deliveries` },
      { label: 'server peak RSS during the fan-out', value: fan.peak, unit: 'MB', target: '≤ 300 MB', pass: fan.peak <= 300, note: `RSS at the end ${fan.rss.toFixed(0)} MB` },
      { label: `${o.tasks} tasks × ${o.clientsPerTask} clients: got the terminal event`, value: spread.complete, unit: `of ${spread.total}`, target: 'all', pass: spread.complete === spread.total },
      { label: `${o.tasks} tasks × ${o.clientsPerTask} clients: ids going backwards`, value: spread.backwards, unit: 'times', target: '0', pass: spread.backwards === 0, note: `server peak RSS ${spread.peak.toFixed(0)} MB` },
    ],
  };
}
