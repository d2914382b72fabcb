import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskSnapshot } from '../src/domain/task.ts';
import { startChildServer, type ChildServer } from './helpers/child-server.ts';
import { makeFlatTree, tempDir } from './helpers/libritts-tree.ts';
import { parseFrames, type SSEFrame } from './helpers/sse.ts';

const BASE = '/api/voice-library';
const FILES = 8000;
let tree: { root: string; cleanup(): void };
const servers: ChildServer[] = [];

beforeAll(() => {
  tree = makeFlatTree(FILES);
});
afterAll(() => {
  for (const s of servers) s.proc.kill('SIGKILL');
  tree.cleanup();
});

async function waitCompleted(server: ChildServer, id: string): Promise<TaskSnapshot> {
  const res = await fetch(`${server.url}${BASE}/scan-events/${id}`);
  const frames = parseFrames(await res.text());
  const last = frames.filter((f) => f.event).pop()!;
  expect(last.event).toBe('completed');
  return JSON.parse(last.data!) as TaskSnapshot;
}

const scan = (server: ChildServer, extra: Record<string, unknown> = {}) =>
  fetch(`${server.url}${BASE}/scan-libritts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ libritts_path: tree.root, analysis: 'full', ...extra }),
  }).then(async (r) => {
    expect(r.status).toBe(202);
    return ((await r.json()) as { task_id: string }).task_id;
  });

const exportJsonl = async (server: ChildServer, id: string) => (await fetch(`${server.url}${BASE}/scan-results/${id}?format=jsonl`)).text();

/** Follows a task's stream, calls `stop` once it is part-way, and returns every frame until the stream ends. */
async function followAndStop(server: ChildServer, id: string, stop: () => void): Promise<{ frames: SSEFrame[]; streamError: unknown }> {
  const res = await fetch(`${server.url}${BASE}/scan-events/${id}`);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let stopped = false;
  let streamError: unknown = null;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (!stopped && parseFrames(text).some((f) => f.event === 'progress' && (JSON.parse(f.data!) as TaskSnapshot).files_done >= 500)) {
        stopped = true;
        stop();
      }
    }
  } catch (err) {
    streamError = err;
  }
  return { frames: parseFrames(text.slice(0, text.lastIndexOf('\n\n') + 2)), streamError };
}

describe.each([['SIGKILL'], ['SIGTERM']] as const)('durability: %s mid-scan, restart on the same DB', (signal) => {
  it('resumes the task, skips recorded files, ends equal to an uninterrupted scan, ids keep increasing', async () => {
    const dbPath = path.join(tempDir('vl-dur-'), 'voice-library.db');
    const env = { DB_PATH: dbPath, SCAN_WORKERS: '1', PROGRESS_INTERVAL_MS: '50' };
    const first = await startChildServer(env);
    servers.push(first);
    const id = await scan(first);

    let signalledAt = 0;
    const { frames: seen, streamError } = await followAndStop(first, id, () => {
      signalledAt = performance.now();
      first.proc.kill(signal);
    });
    const exit = await first.exited;
    const exitMs = performance.now() - signalledAt;
    if (signal === 'SIGKILL') {
      expect(exit.signal).toBe('SIGKILL');
    } else {
      // Graceful: exit 0 within 5 s, the event stream ended cleanly (no error, no terminal event).
      expect(exit).toEqual({ code: 0, signal: null });
      expect(exitMs).toBeLessThan(5000);
      expect(streamError).toBeNull();
      expect(seen.filter((f) => ['completed', 'failed', 'cancelled', 'error'].includes(f.event ?? ''))).toEqual([]);
    }
    const maxIdBefore = Math.max(...seen.filter((f) => f.id).map((f) => Number(f.id)));

    const db = new Database(dbPath, { readonly: true });
    const recorded = (db.prepare('SELECT COUNT(*) AS n FROM results JOIN tasks ON tasks.seq = results.task WHERE tasks.id = ?').get(id) as { n: number }).n;
    const stored = db.prepare('SELECT status, snapshot FROM tasks WHERE id = ?').get(id) as { status: string; snapshot: string };
    db.close();
    expect(recorded).toBeGreaterThan(0);
    expect(recorded).toBeLessThan(FILES);
    expect(stored.status).toBe('running');
    if (signal === 'SIGTERM') {
      // Checkpointed: the stored counters are those of the results on disk.
      expect((JSON.parse(stored.snapshot) as TaskSnapshot).files_done).toBe(recorded);
    }

    const second = await startChildServer(env);
    servers.push(second);
    const statusRes = await fetch(`${second.url}${BASE}/scan-events/${id}`);
    const evs = parseFrames(await statusRes.text()).filter((f) => f.event);
    for (const f of evs) expect(Number(f.id)).toBeGreaterThanOrEqual(maxIdBefore);
    for (const f of evs.slice(1)) expect(Number(f.id)).toBeGreaterThan(maxIdBefore);
    expect(evs.pop()!.event).toBe('completed');
    // The restarted run counts its recorded files again as its walk finds them: the counters it
    // sends never go back, and its total is unknown (null) until the walk ends.
    const snaps = evs.map((f) => JSON.parse(f.data!) as TaskSnapshot);
    for (let i = 1; i < snaps.length; i++) expect(snaps[i]!.files_done, `event ${evs[i]!.id}`).toBeGreaterThanOrEqual(snaps[i - 1]!.files_done);
    for (const [i, snap] of snaps.entries()) if (snap.phase === 'discovering' || snap.status === 'queued') expect(snap.files_total, `event ${evs[i]!.id}`).toBeNull();
    const final = await waitCompleted(second, id);
    // Recorded files were skipped: the restarted run entered processing with them already done.
    const log = new Database(dbPath, { readonly: true });
    const phases = (
      log.prepare('SELECT id, snapshot FROM events WHERE task = (SELECT seq FROM tasks WHERE id = ?) AND id > ? ORDER BY id').all(id, maxIdBefore) as {
        id: number;
        snapshot: string;
      }[]
    ).map((r) => JSON.parse(r.snapshot) as TaskSnapshot);
    log.close();
    const resumed = phases.find((s) => s.phase === 'processing');
    expect(resumed, 'a processing phase event after the restart').toBeDefined();
    expect(resumed!.files_done).toBeGreaterThanOrEqual(recorded);
    expect(final).toMatchObject({ status: 'completed', files_total: FILES, files_done: FILES, files_failed: 0 });

    // The same tree read again without interruption gives the same rows.
    const control = await scan(second, { reuse: 'none' });
    const controlFinal = await waitCompleted(second, control);
    expect(controlFinal.summary).toEqual(final.summary);
    const [a, b] = await Promise.all([exportJsonl(second, id), exportJsonl(second, control)]);
    expect(a.split('\n').length).toBe(FILES + 1);
    expect(a).toBe(b);

    second.proc.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });
});

describe('durability: files removed while the service was down', () => {
  it('a resumed task drops the rows of recorded files its walk no longer finds: its rows, total, summary and counters agree with a fresh scan', async () => {
    const own = makeFlatTree(4000);
    try {
      const dbPath = path.join(tempDir('vl-dur-gone-'), 'voice-library.db');
      const env = { DB_PATH: dbPath, SCAN_WORKERS: '1', PROGRESS_INTERVAL_MS: '50' };
      const first = await startChildServer(env);
      servers.push(first);
      const id = await scan(first, { libritts_path: own.root });
      await followAndStop(first, id, () => first.proc.kill('SIGKILL'));
      await first.exited;
      // Files go away before the restart: every one not recorded yet, and of those recorded enough
      // that fewer are left than the counters the first run stored (at least 500), by 150.
      const db = new Database(dbPath, { readonly: true });
      const recorded = db.prepare('SELECT path FROM results JOIN tasks ON tasks.seq = results.task WHERE tasks.id = ? ORDER BY path').pluck().all(id) as string[];
      const reached = (JSON.parse((db.prepare('SELECT snapshot FROM tasks WHERE id = ?').get(id) as { snapshot: string }).snapshot) as TaskSnapshot).files_done;
      db.close();
      expect(reached).toBeGreaterThanOrEqual(500);
      const gone = recorded.slice(0, recorded.length - reached + 150);
      const kept = new Set(recorded.slice(gone.length));
      for (const p of gone) fs.rmSync(path.join(own.root, p));
      for (const f of fs.readdirSync(own.root, { recursive: true, encoding: 'utf8' }))
        if (f.endsWith('.wav') && !kept.has(f) && fs.existsSync(path.join(own.root, f))) fs.rmSync(path.join(own.root, f));
      const left = kept.size;

      const second = await startChildServer(env);
      servers.push(second);
      const final = await waitCompleted(second, id);
      expect(final).toMatchObject({ status: 'completed', files_total: left, files_done: left });
      expect(left).toBe(reached - 150);
      const total = ((await (await fetch(`${second.url}${BASE}/scan-results/${id}?limit=1`)).json()) as { total: number }).total;
      const filtered = ((await (await fetch(`${second.url}${BASE}/scan-results/${id}?limit=1&min_duration=0`)).json()) as { total: number }).total;
      expect([total, filtered]).toEqual([left, left]);
      const rows = (await exportJsonl(second, id)).trimEnd().split('\n');
      expect(rows).toHaveLength(left);
      const goneSet = new Set(gone);
      expect(rows.filter((l) => goneSet.has((JSON.parse(l) as { path: string }).path))).toEqual([]);
      const control = await scan(second, { libritts_path: own.root, reuse: 'none' });
      const controlFinal = await waitCompleted(second, control);
      expect(controlFinal.summary).toEqual(final.summary);
      expect(await exportJsonl(second, id)).toBe(await exportJsonl(second, control));
      second.proc.kill('SIGTERM');
      expect((await second.exited).code).toBe(0);
    } finally {
      own.cleanup();
    }
  });
});
