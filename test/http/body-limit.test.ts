import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLibriTTSTree, type Tree } from '../helpers/libritts-tree.ts';
import { BASE, startTestService, type TestService } from '../helpers/service.ts';

// The body limit on a real server, where a POST with a Content-Length is judged by its header and
// its body read straight from the socket, and a chunked one is counted as it arrives.
const LIMIT = 1024;
let svc: TestService;
let tree: Tree;
let server: ReturnType<typeof serve>;
let port: number;

beforeAll(async () => {
  tree = makeLibriTTSTree({ subsets: { 'dev-clean': 1 }, chaptersPerSpeaker: 1 });
  svc = await startTestService({ MAX_BODY_BYTES: LIMIT });
  server = serve({ fetch: svc.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((r) => server.once('listening', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.close();
  await svc.close();
  tree.cleanup();
});

/** A scan request padded with spaces to exactly `bytes` bytes of JSON. */
function bodyOf(bytes: number): Buffer {
  const base = JSON.stringify({ libritts_path: tree.root, analysis: 'header' });
  return Buffer.from(base.slice(0, -1) + ' '.repeat(bytes - Buffer.byteLength(base)) + '}');
}

/** POSTs `body` in the given chunks, with a Content-Length or chunked; resolves with the status and JSON body. */
function post(chunks: Buffer[], framing: 'length' | 'chunked'): Promise<{ status: number; body: { code?: string; task_id?: string } }> {
  return new Promise((resolve, reject) => {
    const total = chunks.reduce((n, c) => n + c.length, 0);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: `${BASE}/scan-libritts`,
        headers: { 'content-type': 'application/json', ...(framing === 'length' ? { 'content-length': total } : { 'transfer-encoding': 'chunked' }) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as { code?: string } }));
      },
    );
    // The server may answer 413 and close before a long body is sent: that is not a failure here.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe('request body limit on a real server', () => {
  for (const framing of ['length', 'chunked'] as const) {
    it(`${framing}: a body of exactly the limit is read and scanned; one byte more is 413`, async () => {
      const ok = await post([bodyOf(LIMIT)], framing);
      expect(ok.status).toBe(202);
      const done = await svc.waitDone(ok.body.task_id!);
      expect(done.status).toBe('completed');
      expect(done.libritts_path).toBe(tree.root);

      const over = await post([bodyOf(LIMIT + 1)], framing);
      expect(over).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE' } });
    });

    it(`${framing}: a body that arrives in many pieces is put together`, async () => {
      const body = bodyOf(600);
      const pieces = Array.from({ length: 12 }, (_, i) => body.subarray(i * 50, (i + 1) * 50));
      const ok = await post(pieces, framing);
      expect(ok.status).toBe(202);
      expect((await svc.waitDone(ok.body.task_id!)).libritts_path).toBe(tree.root);
    });
  }

  it('a chunked body is refused once it passes the limit, without waiting for its end', async () => {
    // Chunks of 512 bytes, the third one past the limit; the request is never ended.
    const sock = net.connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    let answer = '';
    sock.on('data', (d) => (answer += d.toString('latin1')));
    const chunk = Buffer.alloc(512, 0x20);
    sock.write(`POST ${BASE}/scan-libritts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
    for (let i = 0; i < 3; i++) sock.write(`200\r\n${chunk.toString('latin1')}\r\n`);
    const deadline = Date.now() + 5000;
    while (!answer.includes('\r\n\r\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    sock.destroy();
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('PAYLOAD_TOO_LARGE');
  });

  it('a Content-Length over the limit is refused from the headers, before any of the body is sent', async () => {
    const sock = net.connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    let answer = '';
    sock.on('data', (d) => (answer += d.toString('latin1')));
    sock.write(`POST ${BASE}/scan-libritts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n`);
    const deadline = Date.now() + 5000;
    while (!answer.includes('\r\n\r\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    sock.destroy();
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('PAYLOAD_TOO_LARGE');
  });
});
