import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { TaskEvent, TaskEventType, TaskSnapshot } from '../../src/domain/task.ts';
import type { AppendOptions } from '../../src/store/types.ts';
import { makeFlatTree, makeLibriTTSTree, type Tree } from '../helpers/libritts-tree.ts';
import { BASE, startTestService, type TestService } from '../helpers/service.ts';
import { parseFrames, readUntil, type SSEFrame } from '../helpers/sse.ts';

let svc: TestService;
let tree: Tree;
let big: { root: string; cleanup(): void };

beforeAll(async () => {
  svc = await startTestService({ SSE_PING_MS: 50 });
  tree = makeLibriTTSTree();
  big = makeFlatTree(2500);
});
afterAll(async () => {
  await svc.close();
  tree.cleanup();
  big.cleanup();
});

const events = (id: string, init?: RequestInit, query = '') => svc.request(`${BASE}/scan-events/${id}${query}`, init);
const dataOf = (f: SSEFrame) => JSON.parse(f.data!) as TaskSnapshot;
const eventFrames = (frames: SSEFrame[]) => frames.filter((f) => f.event);

function checkStream(frames: SSEFrame[]) {
  const evs = eventFrames(frames);
  expect(frames[0]).toEqual({ retry: '2000' });
  expect(evs[0]!.event).toBe('status');
  const ids = evs.map((f) => Number(f.id));
  for (let i = 1; i < ids.length; i++) expect(ids[i]!).toBeGreaterThan(ids[i - 1]! - (i === 1 ? 1 : 0));
  const terminal = evs.filter((f) => ['completed', 'failed', 'cancelled'].includes(f.event!));
  expect(terminal).toHaveLength(1);
  expect(evs[evs.length - 1]).toBe(terminal[0]);
  expect(evs.every((f) => ['status', 'progress', 'completed', 'failed', 'cancelled'].includes(f.event!))).toBe(true);
  return evs;
}

describe('GET /scan-events', () => {
  it('a finished task: exact frames — retry, status, its terminal event — then close', async () => {
    const id = await svc.startScan({ libritts_path: tree.root, analysis: 'header' });
    await svc.waitDone(id);
    const res = await events(id);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    const text = await res.text();
    const snap = (await (await svc.request(`${BASE}/scan-status/${id}`)).json()) as TaskSnapshot;
    const stored = await svc.stores.tasks.getTask(id);
    const last = stored!.last_event_id;
    const data = JSON.stringify(snap);
    expect(text).toBe(`retry: 2000\n\nevent: status\ndata: ${data}\nid: ${last - 1}\n\nevent: completed\ndata: ${data}\nid: ${last}\n\n`);
  });

  it('a live task: status first, coalesced progress with increasing ids, exactly one terminal event, then close', async () => {
    const id = await svc.startScan({ libritts_path: big.root, analysis: 'full' });
    const res = await events(id);
    const frames = parseFrames(await res.text());
    const evs = checkStream(frames);
    expect(evs[evs.length - 1]!.event).toBe('completed');
    expect(dataOf(evs[evs.length - 1]!)).toMatchObject({ status: 'completed', progress: 100, files_done: 2500 });
    const phases = evs.map((f) => dataOf(f).phase).filter(Boolean);
    expect(phases).toContain('processing');
    expect(phases).toContain('finalizing');
    const progress = evs.map((f) => dataOf(f).progress);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThanOrEqual(progress[i - 1]!);
    expect(frames.some((f) => f.comment === 'ping')).toBe(true);
  });

  it('coalesces progress to at most ~10 per second per task (plus phase changes)', async () => {
    const times: { t: number; e: TaskEvent }[] = [];
    const id = await svc.startScan({ libritts_path: big.root, analysis: 'full' });
    const off = svc.events.subscribe(id, (e) => times.push({ t: performance.now(), e }));
    await svc.waitDone(id);
    off();
    const plain = times.filter((x, i) => i > 0 && x.e.type === 'progress' && x.e.snapshot.phase === times[i - 1]!.e.snapshot.phase);
    for (const x of plain) {
      const prev = times[times.indexOf(x) - 1]!;
      expect(x.t - prev.t).toBeGreaterThan(60);
    }
  });

  it('reconnecting with Last-Event-ID resumes and still ends with the terminal event', async () => {
    const id = await svc.startScan({ libritts_path: big.root, analysis: 'full' });
    const first = await readUntil(await events(id), (f) => eventFrames(f).length >= 2);
    const lastSeen = Number(eventFrames(first).pop()!.id);
    const res = await events(id, { headers: { 'Last-Event-ID': String(lastSeen) } });
    const evs = checkStream(parseFrames(await res.text()));
    expect(Number(evs[0]!.id)).toBeGreaterThanOrEqual(lastSeen);
    for (const f of evs.slice(1)) expect(Number(f.id)).toBeGreaterThan(lastSeen);
    // Past the terminal event: 204 tells EventSource to stop for good (header or query).
    const end = Number(evs[evs.length - 1]!.id);
    expect((await events(id, { headers: { 'Last-Event-ID': String(end) } })).status).toBe(204);
    expect((await events(id, undefined, `?last_event_id=${end}`)).status).toBe(204);
    // Before the end, the query form works like the header.
    const viaQuery = checkStream(parseFrames(await (await events(id, undefined, `?last_event_id=${end - 1}`)).text()));
    expect(Number(viaQuery[viaQuery.length - 1]!.id)).toBe(end);
  });

  it("the terminal event is the same bytes live and replayed (the summary's keys in one order)", async () => {
    const id = await svc.startScan({ libritts_path: tree.root, analysis: 'header' });
    const live = (await readUntil(await events(id), (f) => f.some((x) => x.event === 'completed'))).find((f) => f.event === 'completed')!;
    const replayed = (await readUntil(await events(id), () => false)).find((f) => f.event === 'completed')!;
    expect(live.id).toBe(replayed.id);
    expect(live.data).toBe(replayed.data);
  });

  it('sends `: ping` comments while nothing happens', async () => {
    const local = await startTestService({ SSE_PING_MS: 30, MAX_CONCURRENT_SCANS: 1 });
    const a = await local.startScan({ libritts_path: big.root, analysis: 'full' });
    const queued = await local.startScan({ libritts_path: big.root, analysis: 'full' });
    const frames = await readUntil(await local.request(`${BASE}/scan-events/${queued}`), (f) => f.filter((x) => x.comment === 'ping').length >= 2);
    expect(dataOf(eventFrames(frames)[0]!).status).toBe('queued');
    await local.request(`${BASE}/scan-cancel/${queued}`, { method: 'POST' });
    await local.request(`${BASE}/scan-cancel/${a}`, { method: 'POST' });
    await local.close();
  });

  it('a disconnected client leaves no listener behind (in-process and over a real socket)', async () => {
    const id = await svc.startScan({ libritts_path: big.root, analysis: 'full' });
    const baseline = svc.events.listenerCount(id);
    const streams = await Promise.all(Array.from({ length: 5 }, () => events(id)));
    await Promise.all(streams.map((r) => readUntil(r, (f) => eventFrames(f).length >= 1)));
    expect(svc.events.listenerCount(id)).toBe(baseline);

    const server = serve({ fetch: svc.app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as AddressInfo).port;
    const aborts = Array.from({ length: 5 }, () => new AbortController());
    const remote = await Promise.all(aborts.map((a) => fetch(`http://127.0.0.1:${port}${BASE}/scan-events/${id}`, { signal: a.signal })));
    await Promise.all(remote.map((r) => r.body!.getReader().read()));
    expect(svc.events.listenerCount(id)).toBeGreaterThanOrEqual(baseline + 1);
    for (const a of aborts) a.abort();
    for (let i = 0; i < 100 && svc.events.listenerCount(id) > baseline; i++) await new Promise((r) => setTimeout(r, 20));
    expect(svc.events.listenerCount(id)).toBe(baseline);
    await svc.request(`${BASE}/scan-cancel/${id}`, { method: 'POST' });
    const closed = new Promise((r) => server.close(r));
    (server as unknown as { closeAllConnections(): void }).closeAllConnections();
    await closed;
  });
});

describe('when the store refuses events (a full disk)', () => {
  const full = () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
  /** A service whose event log refuses the appends `refuse` picks. */
  async function refusing(refuse: (type: TaskEventType, snap: TaskSnapshot) => boolean) {
    const local = await startTestService({ SSE_PING_MS: 50 });
    onTestFinished(async () => void (await local.close()));
    const log = local.stores.events;
    const append = log.append.bind(log);
    log.append = async (taskId: string, type: TaskEventType, snap: TaskSnapshot, opts: AppendOptions) => {
      if (refuse(type, snap)) throw full();
      return append(taskId, type, snap, opts);
    };
    return local;
  }

  it('an event the store refused keeps its id: the next one goes above it, and a stream that saw it still gets the end', async () => {
    let refused = false;
    const local = await refusing((_type, snap) => !refused && snap.phase === 'finalizing' && (refused = true));
    const id = await local.startScan({ libritts_path: big.root, analysis: 'header' });
    const frames = await readUntil(await local.request(`${BASE}/scan-events/${id}`), (f) => f.some((x) => x.event === 'completed'));
    expect(refused).toBe(true);
    const evs = checkStream(frames);
    const finalizing = evs.find((f) => f.event === 'progress' && dataOf(f).phase === 'finalizing')!;
    expect(Number(evs.at(-1)!.id)).toBeGreaterThan(Number(finalizing.id));
    // A client that had the refused event reconnects with its id: the end, not a 204.
    const again = await local.request(`${BASE}/scan-events/${id}`, { headers: { 'last-event-id': finalizing.id! } });
    expect(again.status).toBe(200);
    expect(eventFrames(await readUntil(again, (f) => f.some((x) => x.event === 'completed'))).at(-1)!.event).toBe('completed');
  });

  it('a task whose end cannot be read back still ends every stream (made of its final snapshot), and its last id still means "past the end"', async () => {
    const local = await startTestService({ SSE_PING_MS: 50 });
    onTestFinished(async () => void (await local.close()));
    const id = await local.startScan({ libritts_path: tree.root, analysis: 'header' });
    const done = await local.waitDone(id);
    local.stores.events.terminalEvent = async () => null; // a lost row
    const last = (await local.reader.get(id))!.last_event_id;
    const frames = await readUntil(await local.request(`${BASE}/scan-events/${id}`), () => false);
    expect(eventFrames(frames).map((f) => [f.event, Number(f.id)])).toEqual([
      ['status', last - 1],
      ['completed', last],
    ]);
    expect(dataOf(eventFrames(frames)[1]!)).toEqual(done);
    expect((await local.request(`${BASE}/scan-events/${id}`, { headers: { 'last-event-id': String(last) } })).status).toBe(204);
  });

  it('a deleted task whose end the store refused is gone: no status is served from memory', async () => {
    const local = await refusing((type) => type !== 'progress');
    const id = await local.startScan({ libritts_path: tree.root, analysis: 'header' });
    expect((await local.waitDone(id)).status).toBe('completed');
    expect((await local.request(`${BASE}/scans/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await local.request(`${BASE}/scan-status/${id}`)).status).toBe(404);
  });
});
