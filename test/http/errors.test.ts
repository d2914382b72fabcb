import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { makeLibriTTSTree, tempDir, type Tree } from '../helpers/libritts-tree.ts';
import { BASE, startTestService, type TestService } from '../helpers/service.ts';

let svc: TestService;
let tree: Tree;
let doneId: string;
let outside: string;

beforeAll(async () => {
  tree = makeLibriTTSTree({ subsets: { 'dev-clean': 1 }, chaptersPerSpeaker: 1 });
  outside = tempDir('vl-outside-');
  // SCAN_ROOTS: the temp dir holding the tree; `outside` is made to fall outside it via a symlink test below.
  svc = await startTestService({ MAX_BODY_BYTES: 1024, SCAN_ROOTS: [tree.root] });
  doneId = await svc.startScan({ libritts_path: tree.root, analysis: 'header' });
  await svc.waitDone(doneId);
});
afterAll(async () => {
  await svc.close();
  tree.cleanup();
});

const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

interface Case {
  name: string;
  req: () => [string, RequestInit?];
  status: number;
  code: string;
  issuePath?: string;
}

const UNKNOWN = '00000000-0000-4000-8000-000000000000';
const scan = `${BASE}/scan-libritts`;

const cases: Case[] = [
  { name: 'malformed JSON', req: () => [scan, json('{"libritts_path": ')], status: 400, code: 'INVALID_JSON' },
  { name: 'empty body', req: () => [scan, json('')], status: 400, code: 'INVALID_JSON' },
  { name: 'JSON array body', req: () => [scan, json([1, 2])], status: 400, code: 'VALIDATION_FAILED' },
  { name: 'missing libritts_path', req: () => [scan, json({ analysis: 'full' })], status: 400, code: 'VALIDATION_FAILED', issuePath: 'libritts_path' },
  { name: 'libritts_path not a string', req: () => [scan, json({ libritts_path: 42 })], status: 400, code: 'VALIDATION_FAILED', issuePath: 'libritts_path' },
  { name: 'relative libritts_path', req: () => [scan, json({ libritts_path: 'data/LibriTTS' })], status: 400, code: 'VALIDATION_FAILED', issuePath: 'libritts_path' },
  { name: 'empty libritts_path', req: () => [scan, json({ libritts_path: '' })], status: 400, code: 'VALIDATION_FAILED', issuePath: 'libritts_path' },
  { name: 'NUL in libritts_path', req: () => [scan, json({ libritts_path: '/tmp/a\u0000b' })], status: 400, code: 'VALIDATION_FAILED', issuePath: 'libritts_path' },
  { name: 'bad analysis', req: () => [scan, json({ libritts_path: tree.root, analysis: 'deep' })], status: 400, code: 'VALIDATION_FAILED', issuePath: 'analysis' },
  { name: 'subsets not an array', req: () => [scan, json({ libritts_path: tree.root, subsets: 'dev-clean' })], status: 400, code: 'VALIDATION_FAILED', issuePath: 'subsets' },
  {
    name: 'an empty subsets list (restricts to nothing)',
    req: () => [scan, json({ libritts_path: tree.root, subsets: [] })],
    status: 400,
    code: 'VALIDATION_FAILED',
    issuePath: 'subsets',
  },
  { name: 'subset that is a path', req: () => [scan, json({ libritts_path: tree.root, subsets: ['../etc'] })], status: 400, code: 'VALIDATION_FAILED', issuePath: 'subsets.0' },
  { name: 'unknown field', req: () => [scan, json({ libritts_path: tree.root, recursive: true })], status: 400, code: 'VALIDATION_FAILED' },
  { name: 'path does not exist', req: () => [scan, json({ libritts_path: `${tree.root}/nope` })], status: 400, code: 'PATH_NOT_FOUND' },
  { name: 'path is a file', req: () => [scan, json({ libritts_path: `${tree.root}/speakers.tsv` })], status: 400, code: 'NOT_A_DIRECTORY' },
  { name: 'path outside SCAN_ROOTS', req: () => [scan, json({ libritts_path: outside })], status: 403, code: 'PATH_NOT_ALLOWED' },
  { name: 'symlink out of SCAN_ROOTS', req: () => [scan, json({ libritts_path: `${tree.root}/escape` })], status: 403, code: 'PATH_NOT_ALLOWED' },
  // A folder is told from anything else in one resolution of `path/` (http/scan-path.ts); these
  // are the answers that must stay apart when that resolution fails.
  {
    name: 'symlink to a file out of SCAN_ROOTS (not told it is a file)',
    req: () => [scan, json({ libritts_path: `${tree.root}/escape-file` })],
    status: 403,
    code: 'PATH_NOT_ALLOWED',
  },
  { name: 'symlink to a file inside', req: () => [scan, json({ libritts_path: `${tree.root}/file-link` })], status: 400, code: 'NOT_A_DIRECTORY' },
  { name: 'a FIFO', req: () => [scan, json({ libritts_path: `${tree.root}/fifo` })], status: 400, code: 'NOT_A_DIRECTORY' },
  { name: 'a path through a file', req: () => [scan, json({ libritts_path: `${tree.root}/speakers.tsv/dev-clean` })], status: 400, code: 'PATH_NOT_FOUND' },
  { name: 'a dangling symlink', req: () => [scan, json({ libritts_path: `${tree.root}/dangling` })], status: 400, code: 'PATH_NOT_FOUND' },
  { name: 'a symlink loop', req: () => [scan, json({ libritts_path: `${tree.root}/loop` })], status: 400, code: 'PATH_NOT_FOUND' },
  { name: 'text/plain body', req: () => [scan, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' }], status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'form body', req: () => [scan, { method: 'POST', body: new URLSearchParams({ libritts_path: '/x' }) }], status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'no content type', req: () => [scan, { method: 'POST', body: '{}' }], status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'body over the limit', req: () => [scan, json({ libritts_path: tree.root, pad: 'x'.repeat(5000) })], status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { name: 'unknown task status', req: () => [`${BASE}/scan-status/${UNKNOWN}`], status: 404, code: 'TASK_NOT_FOUND' },
  { name: 'malformed task id', req: () => [`${BASE}/scan-status/not-a-uuid`], status: 404, code: 'TASK_NOT_FOUND' },
  { name: 'unknown task events', req: () => [`${BASE}/scan-events/${UNKNOWN}`], status: 404, code: 'TASK_NOT_FOUND' },
  { name: 'unknown task results', req: () => [`${BASE}/scan-results/${UNKNOWN}`], status: 404, code: 'TASK_NOT_FOUND' },
  { name: 'unknown task speakers', req: () => [`${BASE}/scan-speakers/${UNKNOWN}`], status: 404, code: 'TASK_NOT_FOUND' },
  { name: 'cancel unknown task', req: () => [`${BASE}/scan-cancel/${UNKNOWN}`, { method: 'POST' }], status: 404, code: 'TASK_NOT_FOUND' },
  { name: 'delete unknown task', req: () => [`${BASE}/scans/${UNKNOWN}`, { method: 'DELETE' }], status: 404, code: 'TASK_NOT_FOUND' },
  { name: 'cancel a finished task', req: () => [`${BASE}/scan-cancel/${doneId}`, { method: 'POST' }], status: 409, code: 'TASK_NOT_ACTIVE' },
  { name: 'results limit 0', req: () => [`${BASE}/scan-results/${doneId}?limit=0`], status: 400, code: 'VALIDATION_FAILED', issuePath: 'limit' },
  { name: 'results limit too big', req: () => [`${BASE}/scan-results/${doneId}?limit=1001`], status: 400, code: 'VALIDATION_FAILED', issuePath: 'limit' },
  { name: 'results limit not a number', req: () => [`${BASE}/scan-results/${doneId}?limit=ten`], status: 400, code: 'VALIDATION_FAILED', issuePath: 'limit' },
  { name: 'results bad cursor', req: () => [`${BASE}/scan-results/${doneId}?cursor=%%%`], status: 400, code: 'VALIDATION_FAILED', issuePath: 'cursor' },
  {
    name: 'results forged cursor',
    req: () => [`${BASE}/scan-results/${doneId}?cursor=${Buffer.from('x').toString('base64url')}`],
    status: 400,
    code: 'VALIDATION_FAILED',
    issuePath: 'cursor',
  },
  { name: 'results bad only', req: () => [`${BASE}/scan-results/${doneId}?only=maybe`], status: 400, code: 'VALIDATION_FAILED', issuePath: 'only' },
  { name: 'results bad format', req: () => [`${BASE}/scan-results/${doneId}?format=xml`], status: 400, code: 'VALIDATION_FAILED', issuePath: 'format' },
  { name: 'scans bad status', req: () => [`${BASE}/scans?status=done`], status: 400, code: 'VALIDATION_FAILED', issuePath: 'status' },
  { name: 'scans bad limit', req: () => [`${BASE}/scans?limit=-1`], status: 400, code: 'VALIDATION_FAILED', issuePath: 'limit' },
  { name: 'events bad last_event_id', req: () => [`${BASE}/scan-events/${doneId}?last_event_id=abc`], status: 400, code: 'VALIDATION_FAILED', issuePath: 'last_event_id' },
  { name: 'unknown API route', req: () => [`${BASE}/nope`], status: 404, code: 'NOT_FOUND' },
  { name: 'unknown root route', req: () => ['/no/such/page'], status: 404, code: 'NOT_FOUND' },
  { name: 'wrong method on scan-libritts', req: () => [scan], status: 405, code: 'METHOD_NOT_ALLOWED' },
  { name: 'wrong method on the dashboard', req: () => ['/', { method: 'POST' }], status: 405, code: 'METHOD_NOT_ALLOWED' },
  { name: 'wrong method on a dashboard file', req: () => ['/app.js', { method: 'DELETE' }], status: 405, code: 'METHOD_NOT_ALLOWED' },
  { name: 'wrong method on scan-status', req: () => [`${BASE}/scan-status/${doneId}`, { method: 'POST' }], status: 405, code: 'METHOD_NOT_ALLOWED' },
];

describe('bad requests get the contract error shape', () => {
  beforeAll(() => {
    fs.symlinkSync(outside, path.join(tree.root, 'escape'));
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'x');
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(tree.root, 'escape-file'));
    fs.symlinkSync(path.join(tree.root, 'speakers.tsv'), path.join(tree.root, 'file-link'));
    fs.symlinkSync(path.join(tree.root, 'nowhere'), path.join(tree.root, 'dangling'));
    fs.symlinkSync(path.join(tree.root, 'loop'), path.join(tree.root, 'loop'));
    expect(spawnSync('mkfifo', [path.join(tree.root, 'fifo')]).status).toBe(0);
  });

  it(`covers at least 20 cases (${cases.length})`, () => expect(cases.length).toBeGreaterThanOrEqual(20));

  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      const [url, init] = c.req();
      const res = await svc.request(url, init);
      expect(res.status).toBe(c.status);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const body = (await res.json()) as { detail: string; code: string; issues: { path: string; message: string }[] };
      expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'issues']);
      expect(body.code).toBe(c.code);
      expect(body.detail.length).toBeGreaterThan(5);
      expect(body.detail).not.toMatch(/\n\s+at /); // never a stack trace
      if (c.code === 'VALIDATION_FAILED') {
        expect(body.issues.length).toBeGreaterThan(0);
        for (const i of body.issues) expect(i).toEqual({ path: expect.any(String), message: expect.any(String) });
        if (c.issuePath) expect(body.issues.map((i) => i.path)).toContain(c.issuePath);
      } else {
        expect(body.issues).toEqual([]);
      }
    });
  }

  it('says which methods a route allows', async () => {
    const res = await svc.request(scan);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('stays healthy afterwards and still scans', async () => {
    const health = await svc.request('/healthz');
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    const id = await svc.startScan({ libritts_path: tree.root, analysis: 'header' });
    expect((await svc.waitDone(id)).status).toBe('completed');
  });
});

describe('a full disk', () => {
  it('a POST the store cannot record is a 507 STORAGE_FULL in the contract shape, and scans are taken again once there is room', async () => {
    const local = await startTestService({ MAX_QUEUED_SCANS: 1000, MAX_CONCURRENT_SCANS: 1 });
    onTestFinished(async () => void (await local.close()));
    const db = local.stores.database.db;
    // No page more than the file holds now: the next write that needs one fails as on a full disk.
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    let res: Response | undefined;
    for (let i = 0; i < 200; i++) {
      res = await local.post(`${BASE}/scan-libritts`, { libritts_path: tree.root, analysis: 'header' });
      if (res.status !== 202) break;
    }
    expect(res!.status).toBe(507);
    expect(res!.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await res!.json()).toEqual({ detail: expect.stringMatching(/full/), code: 'STORAGE_FULL', issues: [] });
    expect((await local.request('/healthz')).status).toBe(200);
    db.pragma('max_page_count = 1073741823');
    const id = await local.startScan({ libritts_path: tree.root, analysis: 'header', reuse: 'none' });
    expect((await local.waitDone(id)).status).toBe('completed');
  });
});

describe('API_TOKEN', () => {
  let locked: TestService;
  beforeAll(async () => {
    locked = await startTestService({ API_TOKEN: 's3cret-token' });
  });
  afterAll(() => locked.close());

  it('requires the bearer token on /api routes, not on /healthz', async () => {
    const res = await locked.request(`${BASE}/scans`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await res.json()).toEqual({ detail: expect.any(String), code: 'UNAUTHORIZED', issues: [] });
    const wrong = await locked.request(`${BASE}/scans`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain('s3cret');
    const ok = await locked.request(`${BASE}/scans`, { headers: { authorization: 'Bearer s3cret-token' } });
    expect(ok.status).toBe(200);
    expect((await locked.request('/healthz')).status).toBe(200);
    // Paths and methods of no route are 401 too, before routing (not a contract check's 500).
    for (const [p, method] of [
      [`${BASE}/nope`, 'GET'],
      [`${BASE}/scans`, 'PUT'],
    ] as const) {
      const other = await locked.request(p, { method });
      expect(other.status, `${method} ${p}`).toBe(401);
      expect(await other.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    }
  });

  it('accepts ?access_token= on the events route only', async () => {
    expect((await locked.request(`${BASE}/scans?access_token=s3cret-token`)).status).toBe(401);
    const ev = await locked.request(`${BASE}/scan-events/${UNKNOWN}?access_token=s3cret-token`);
    expect(ev.status).toBe(404); // authorized, then: unknown task
  });
});
