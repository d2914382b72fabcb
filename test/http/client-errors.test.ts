import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildServer, type ChildServer } from '../helpers/child-server.ts';

/** Sends raw bytes to the server and reads until it closes the connection. */
function raw(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(bytes));
    let got = '';
    socket.setEncoding('latin1');
    socket.on('data', (d) => (got += d));
    socket.on('error', reject);
    socket.on('close', () => resolve(got));
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no close; got ${JSON.stringify(got)}`)));
  });
}

function parse(answer: string): { status: number; headers: string; body: unknown } {
  const [head, body] = [answer.slice(0, answer.indexOf('\r\n\r\n')), answer.slice(answer.indexOf('\r\n\r\n') + 4)];
  return { status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body: JSON.parse(body) };
}

// Through the real process (src/main.ts wires the handler to the server it listens with).
describe('requests refused by the HTTP parser, before any route', () => {
  let server: ChildServer;
  beforeAll(async () => {
    server = await startChildServer({ DB_PATH: ':memory:' });
  }, 40_000);
  afterAll(async () => {
    server?.proc.kill('SIGTERM');
    await server?.exited;
  });

  it('headers over the limit are a 431 HEADERS_TOO_LARGE in the contract shape, and the connection closes', async () => {
    const answer = parse(await raw(server.url, `GET /api/voice-library/scan-status/x HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
    expect(answer.status).toBe(431);
    expect(answer.headers).toContain('content-type: application/json');
    expect(answer.headers).toContain('connection: close');
    expect(answer.body).toEqual({ code: 'HEADERS_TOO_LARGE', detail: expect.stringMatching(/headers/), issues: [] });
  });

  it.each([
    ['a Content-Length that is not a number', 'POST /api/voice-library/scan-libritts HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}'],
    ['two different Content-Lengths', 'POST /api/voice-library/scan-libritts HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}'],
    ['a request line that is not HTTP', 'HELLO THERE\r\n\r\n'],
    ['a header name with a space', 'GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n'],
  ])('%s is a 400 MALFORMED_REQUEST in the contract shape', async (_, bytes) => {
    const answer = parse(await raw(server.url, bytes));
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ code: 'MALFORMED_REQUEST', detail: expect.any(String), issues: [] });
  });

  it('the server still answers afterwards', async () => {
    const res = await fetch(`${server.url}/api/voice-library/scan-status/00000000-0000-4000-8000-000000000000`);
    expect(res.status).toBe(404);
  });
});
