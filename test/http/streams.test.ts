import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLibriTTSTree, tempDir, type Tree } from '../helpers/libritts-tree.ts';
import { BASE, startTestService, type TestService } from '../helpers/service.ts';
import { toneWav } from '../helpers/wav.ts';
import type { TaskEvent, TaskEventType, TaskPhase } from '../../src/domain/task.ts';
import { readUntil } from '../helpers/sse.ts';

let svc: TestService;
let tree: Tree;
let server: ReturnType<typeof serve>;
let port: number;
let fifo: string;

beforeAll(async () => {
  // One scan slot, held by a task whose worker blocks on a FIFO: every other task stays queued,
  // so a stream opened on one stays open until the test ends it.
  fifo = path.join(tempDir('vl-fifo-'), 'hang');
  execFileSync('mkfifo', [fifo]);
  svc = await startTestService({ MAX_SSE_CLIENTS_PER_TASK: 10, MAX_CONCURRENT_SCANS: 1 }, { faults: { hangOn: { suffix: 'hang.wav', fifo } } });
  tree = makeLibriTTSTree({ subsets: { a: 2 } });
  fs.writeFileSync(path.join(tree.root, 'a', 'hang.wav'), toneWav());
  await svc.startScan({ libritts_path: tree.root, analysis: 'header' });
  server = serve({ fetch: svc.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((r) => server.once('listening', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  spawn('sh', ['-c', 'echo go > "$0"', fifo]); // frees the blocked worker thread
  server.close();
  await svc.close();
  tree.cleanup();
});

/** One raw HTTP/1.1 exchange on its own socket; resolves with everything the server sent. */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(request));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (d) => (text += d));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

/** A task that stays queued behind the blocked one. */
const queuedTask = () => svc.startScan({ libritts_path: tree.root, analysis: 'full' });

describe('stream slots are released whatever happens to the body', () => {
  it('HEAD on scan-events answers the headers without opening a stream: ten HEADs leave every slot free', async () => {
    const id = await queuedTask();
    for (let i = 0; i < 10; i++) {
      const answer = await raw(`HEAD ${BASE}/scan-events/${id} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);
      expect(answer.toLowerCase()).toContain('content-type: text/event-stream');
      expect(answer.endsWith('\r\n\r\n')).toBe(true); // headers only
    }
    expect(svc.events.listenerCount(id)).toBe(0);
    const streams = await Promise.all(Array.from({ length: 10 }, () => svc.request(`${BASE}/scan-events/${id}`)));
    expect(streams.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect((await svc.request(`${BASE}/scan-events/${id}`)).status).toBe(503);
    for (const r of streams) await r.body!.cancel();
    await svc.request(`${BASE}/scan-cancel/${id}`, { method: 'POST' });
  });

  it('HEAD on an export answers the headers of the download, not its body', async () => {
    const id = await queuedTask();
    await svc.request(`${BASE}/scan-cancel/${id}`, { method: 'POST' });
    const answer = await raw(`HEAD ${BASE}/scan-results/${id}?format=jsonl HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer.toLowerCase()).toContain('content-type: application/x-ndjson');
    expect(answer.endsWith('\r\n\r\n')).toBe(true);
  });

  it('a stream body that nobody ever reads gives its slot back', async () => {
    const id = await queuedTask();
    const dropped = await svc.request(`${BASE}/scan-events/${id}`); // never read, never cancelled
    expect(dropped.status).toBe(200);
    expect(svc.events.listenerCount(id)).toBe(1);
    const deadline = Date.now() + 8000;
    while (svc.events.listenerCount(id) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(svc.events.listenerCount(id)).toBe(0);
    expect((await svc.request(`${BASE}/scan-status/${id}`)).status).toBe(200);
    expect(((await (await svc.request(`${BASE}/scan-status/${id}`)).json()) as { status: string }).status).toBe('queued');
    await svc.request(`${BASE}/scan-cancel/${id}`, { method: 'POST' });
  });
});

describe('method and id handling', () => {
  it('405 lists HEAD beside GET, from the routes themselves', async () => {
    const res = await svc.request(`${BASE}/scan-status/00000000-0000-0000-0000-000000000000`, { method: 'PUT' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect((await svc.request(`${BASE}/scans/00000000-0000-0000-0000-000000000000`, { method: 'PUT' })).headers.get('allow')).toBe('DELETE');
    expect((await svc.request('/healthz', { method: 'POST' })).headers.get('allow')).toBe('GET, HEAD');
  });

  it('task ids are case-insensitive', async () => {
    const id = await queuedTask();
    await svc.request(`${BASE}/scan-cancel/${id}`, { method: 'POST' });
    for (const route of ['scan-status', 'scan-results', 'scan-speakers', 'scan-events']) {
      const res = await svc.request(`${BASE}/${route}/${id.toUpperCase()}`);
      expect(res.status, route).toBe(200);
      await res.body?.cancel();
    }
    expect((await (await svc.request(`${BASE}/scan-status/${id.toUpperCase()}`)).json()) as { task_id: string }).toMatchObject({ task_id: id });
  });
});

describe('a stream writes events in id order, each once', () => {
  it('whatever order they arrive in: across API processes one can come twice (pub/sub and the catch-up) or after a later one', async () => {
    const id = await queuedTask();
    const res = await svc.request(`${BASE}/scan-events/${id}`);
    const reading = readUntil(res, (f) => f.some((x) => x.event === 'completed'));
    await new Promise((r) => setTimeout(r, 100)); // subscribed
    const { snapshot, last_event_id: base } = (await svc.reader.get(id))!;
    const event = (n: number, type: TaskEventType, phase: TaskPhase | null): TaskEvent => ({
      id: base + n,
      type,
      snapshot: { ...snapshot, status: type === 'progress' ? 'running' : type, phase },
    });
    // One turn: a later event first, then an earlier one of another phase, the later one again, and the end.
    for (const e of [event(3, 'progress', 'processing'), event(2, 'progress', 'discovering'), event(3, 'progress', 'processing'), event(5, 'completed', null)])
      svc.events.publish(e, true);
    const ids = (await reading).filter((f) => f.event).map((f) => Number(f.id));
    expect(ids).toEqual([base, base + 2, base + 3, base + 5]);
  });
});
