// The service in this process, for benchmarks that need its internals' clock (event times).
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { testConfig, type Config } from '../../src/config.ts';
import { createService, type SingleService } from '../../src/service.ts';
import { waitForEnd } from '../../src/tasks/wait-for-end.ts';
import type { TaskEvent, TaskSnapshot } from '../../src/domain/task.ts';

export interface TimedScan {
  snapshot: TaskSnapshot;
  /** Seconds from the POST to the terminal event. */
  totalS: number;
  /** Seconds from the task's start to its finalizing phase: the walk and the reading, which overlap. */
  scanS: number;
  postMs: number;
}

export async function withService<T>(overrides: Partial<Config>, fn: (svc: SingleService) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vl-bench-db-'));
  const svc = await createService(testConfig({ DB_PATH: path.join(dir, 'bench.db'), LOG_LEVEL: 'silent', ...overrides }));
  try {
    return await fn(svc);
  } finally {
    await svc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** POSTs a scan and times its phases from the service's own events. */
export async function timedScan(svc: SingleService, body: Record<string, unknown>): Promise<TimedScan> {
  const marks = new Map<string, number>();
  let id = '';
  const onEvent = (e: TaskEvent) => {
    if (e.snapshot.task_id !== id) return;
    const key = e.type === 'progress' ? (e.snapshot.phase ?? e.snapshot.status) : e.type;
    if (!marks.has(key)) marks.set(key, performance.now());
  };
  const off = svc.events.onAny(onEvent);
  const t0 = performance.now();
  // Every file is read (`reuse: "none"`) unless the body says otherwise: a benchmark measures reading.
  const res = await svc.app.request('/api/voice-library/scan-libritts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reuse: 'none', ...body }) });
  const postMs = performance.now() - t0;
  // A refused POST (a relative path, a root outside SCAN_ROOTS) has no task to wait for.
  if (res.status !== 202) {
    off();
    throw new Error(`POST /scan-libritts answered ${res.status}: ${await res.text()}`);
  }
  id = ((await res.json()) as { task_id: string }).task_id;
  let snapshot: TaskSnapshot | null = null;
  while (!snapshot) snapshot = await waitForEnd(svc.reader, svc.events, id, 600_000);
  off();
  const end = marks.get(snapshot.status) ?? performance.now();
  // Reading starts during `discovering`, so the clock starts there, not at `processing`.
  const scanS = ((marks.get('finalizing') ?? end) - (marks.get('discovering') ?? t0)) / 1000;
  return { snapshot, totalS: (end - t0) / 1000, scanS, postMs };
}
