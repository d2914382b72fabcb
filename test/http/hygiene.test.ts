import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { createService, type Service } from '../../src/service.ts';
import { makeLibriTTSTree, tempDir, type Tree } from '../helpers/libritts-tree.ts';
import { BASE, startTestService, type TestService } from '../helpers/service.ts';
import { readUntil } from '../helpers/sse.ts';

let svc: TestService;
let tree: Tree;
beforeAll(async () => {
  svc = await startTestService();
  tree = makeLibriTTSTree();
});
afterAll(async () => {
  await svc.close();
  tree.cleanup();
});

describe('HTTP hygiene', () => {
  it('sends secure headers and a CSP the dashboard works under', async () => {
    for (const url of ['/', `${BASE}/scans`]) {
      const res = await svc.request(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
    }
  });

  it('serves the dashboard and its modules with the right types', async () => {
    const page = await svc.request('/');
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<script type="module" src="/app.js">');
    const js = await svc.request('/app.js');
    expect(js.headers.get('content-type')).toMatch(/javascript/);
  });

  it.each(['/..%2f..%2fetc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%5c..%5cetc%5cpasswd', '/public/../package.json', '//etc/passwd', '/%2e%2e%2fpackage.json'])(
    'cannot reach files outside public/: %s',
    async (url) => {
      const res = await svc.request(url);
      expect(res.status).toBe(404);
      const body = await res.text();
      expect(body).not.toContain('root:');
      expect(body).not.toContain('"dependencies"');
      expect(JSON.parse(body)).toMatchObject({ code: 'NOT_FOUND' });
    },
  );

  it('has no CORS by default', async () => {
    const res = await svc.request(`${BASE}/scans`, { headers: { Origin: 'https://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await svc.request(`${BASE}/scan-libritts`, { method: 'OPTIONS', headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' } });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers CORS for the origins in CORS_ORIGINS only', async () => {
    const local = await startTestService({ CORS_ORIGINS: ['https://ui.example'] });
    const ok = await local.request(`${BASE}/scans`, { headers: { Origin: 'https://ui.example' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://ui.example');
    const pre = await local.request(`${BASE}/scan-libritts`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://ui.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,authorization' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    // A player on that origin seeks in scan-audio: Range may be sent, Content-Range read.
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/\bRange\b/);
    expect(ok.headers.get('access-control-expose-headers')).toMatch(/Content-Range/);
    const other = await local.request(`${BASE}/scans`, { headers: { Origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    await local.close();
  });

  it('logs one line per request with its request id, never the token', async () => {
    const lines: string[] = [];
    const config = testConfig({ DB_PATH: `${tempDir('vl-db-')}/t.db`, API_TOKEN: 'tok-SECRET-123', SCAN_WORKERS: 1 });
    const local: Service = await createService(
      config,
      createLogger('info', (l) => lines.push(l)),
    );
    const res = await local.app.request(`${BASE}/scans`, { headers: { authorization: 'Bearer tok-SECRET-123', 'x-request-id': 'req-42' } });
    expect(res.headers.get('x-request-id')).toBe('req-42');
    await local.app.request(`${BASE}/scan-events/00000000-0000-4000-8000-000000000000?access_token=tok-SECRET-123`);
    await local.app.request(`${BASE}/scans`, { headers: { authorization: 'Bearer wrong-tok-SECRET-123x' } });
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged.find((l) => l.request_id === 'req-42')).toMatchObject({ msg: 'request', method: 'GET', path: `${BASE}/scans`, status: 200 });
    expect(logged.filter((l) => l.msg === 'request')).toHaveLength(3);
    expect(logged.every((l) => typeof l.request_id === 'string')).toBe(true);
    expect(lines.join('\n')).not.toContain('SECRET');
    await local.close();
  });
});

describe('limits', () => {
  it('caps event streams per task and overall with 503 + Retry-After, and frees slots on disconnect', async () => {
    // A finished task's stream ends at once, so streams are held on queued tasks.
    const local = await startTestService({ MAX_SSE_CLIENTS_PER_TASK: 3, MAX_SSE_CLIENTS: 5, MAX_CONCURRENT_SCANS: 1 });
    const big = makeLibriTTSTree({ subsets: { a: 20 }, utterancesPerChapter: 30 });
    const running = await local.startScan({ libritts_path: big.root, analysis: 'full' });
    const queued = [await local.startScan({ libritts_path: big.root, analysis: 'full' }), await local.startScan({ libritts_path: big.root, analysis: 'full' })];
    const open = (tid: string) => local.request(`${BASE}/scan-events/${tid}`);
    const held = await Promise.all([open(queued[0]!), open(queued[0]!), open(queued[0]!)]);
    expect(held.map((r) => r.status)).toEqual([200, 200, 200]);
    const fourth = await open(queued[0]!);
    expect(fourth.status).toBe(503);
    expect(fourth.headers.get('retry-after')).toBe('5');
    expect(await fourth.json()).toMatchObject({ code: 'TOO_MANY_STREAMS', detail: expect.stringContaining('this task') });
    const more = await Promise.all([open(queued[1]!), open(queued[1]!)]);
    expect(more.map((r) => r.status)).toEqual([200, 200]);
    const overall = await open(queued[1]!);
    expect(overall.status).toBe(503);
    expect(await overall.json()).toMatchObject({ detail: expect.stringContaining('the server') });
    // Disconnecting gives the slot back.
    await readUntil(held[0]!, () => true);
    await new Promise((r) => setTimeout(r, 20));
    const again = await open(queued[0]!);
    expect(again.status).toBe(200);
    for (const r of [...held.slice(1), ...more, again]) await r.body?.cancel();
    for (const tid of [...queued, running]) await local.request(`${BASE}/scan-cancel/${tid}`, { method: 'POST' });
    await local.close();
    big.cleanup();
  });

  it('refuses new scans with 503 SHUTTING_DOWN while closing', async () => {
    const local = await startTestService();
    const closing = local.close();
    const res = await local.post(`${BASE}/scan-libritts`, { libritts_path: tree.root });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toMatchObject({ code: 'SHUTTING_DOWN' });
    await closing;
    await local.close();
  });
});
