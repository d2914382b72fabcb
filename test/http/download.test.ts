import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { describe, expect, it, onTestFinished } from 'vitest';
import { errorResponse, toAppError } from '../../src/errors.ts';
import type { ExportFormat } from '../../src/export/types.ts';
import { download } from '../../src/http/download.ts';
import { silentLogger } from '../../src/logger.ts';
import type { ResultStore } from '../../src/store/types.ts';
import { queuedSnapshot } from '../../src/tasks/local-queue.ts';

/** download(): what a client sees when a download format fails before, or after, its first byte. */

const snapshot = queuedSnapshot({ libritts_path: '/data/x', root: '/data/x', analysis: 'header' });
// download() asks the store for the task's speakers only; the formats below read no rows.
const store = { speakers: async () => [] } as unknown as ResultStore;

/** An app serving one format at /d, rendering errors as the service does. */
function appOf(format: ExportFormat): Hono {
  const app = new Hono();
  app.get('/d', (c) => download(c, store, silentLogger, format, { snapshot, root: '/data/x', filter: {}, sort: { key: 'path', desc: false }, text: 'normalized' }));
  app.onError((err, c) => errorResponse(c, toAppError(err)));
  return app;
}

function format(write: ExportFormat['write']): ExportFormat {
  return { name: 'test', contentType: 'text/plain; charset=utf-8', filename: (id) => `${id}.txt`, write };
}

/** A GET over a real connection: the status, the bytes, and whether the body ended as a complete transfer. */
async function fetchOver(app: Hono): Promise<{ status: number; body: string; complete: boolean }> {
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  onTestFinished(() => void server.close());
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/d' }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body, complete: res.complete }));
        res.on('error', () => resolve({ status: res.statusCode!, body, complete: false }));
        res.on('aborted', () => resolve({ status: res.statusCode!, body, complete: false }));
      })
      .on('error', reject);
  });
}

describe('HEAD of a download', () => {
  it('answers the headers at once, without running the format (a tar spools every row before its first byte)', async () => {
    let ran = false;
    const app = appOf(
      format(async () => {
        ran = true;
        await new Promise(() => {}); // never ends
      }),
    );
    const res = await app.request('/d', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${snapshot.task_id}.txt"`);
    expect(ran).toBe(false);
  });
});

describe('a download that fails', () => {
  it('before its first byte is an error answer in the contract shape, without the download headers', async () => {
    let temp = '';
    const app = appOf(
      format(async (ctx) => {
        temp = await ctx.tempDir();
        fs.writeFileSync(`${temp}/member`, 'spooled');
        throw new Error('spooling failed');
      }),
    );
    const res = await app.request('/d');
    expect(res.status).toBe(500);
    expect(res.headers.get('content-disposition')).toBeNull();
    expect(await res.json()).toEqual({ detail: expect.stringMatching(/failed/), code: 'INTERNAL_ERROR', issues: [] });
    expect(fs.existsSync(temp)).toBe(false); // its temporary directory is gone
  });

  it('before its first byte for a full disk is a 507 STORAGE_FULL', async () => {
    const app = appOf(
      format(async () => {
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }),
    );
    const res = await app.request('/d');
    expect(res.status).toBe(507);
    expect(await res.json()).toMatchObject({ code: 'STORAGE_FULL' });
  });

  it('after its first byte ends as a broken transfer, never as a complete one', async () => {
    const got = await fetchOver(
      appOf(
        format(async (_ctx, out) => {
          await out.write('line 1\n');
          await new Promise((r) => setTimeout(r, 20));
          throw new Error('the store went away');
        }),
      ),
    );
    expect(got.status).toBe(200);
    expect(got.body).toBe('line 1\n');
    expect(got.complete).toBe(false);
  });

  it('…and one that does not fail ends complete, with its headers', async () => {
    const app = appOf(
      format(async (_ctx, out) => {
        for (let i = 0; i < 3; i++) await out.write(`line ${i}\n`);
      }),
    );
    const got = await fetchOver(app);
    expect(got).toEqual({ status: 200, body: 'line 0\nline 1\nline 2\n', complete: true });
    const res = await app.request('/d');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${snapshot.task_id}.txt"`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    // An export with nothing to write is a complete, empty body.
    expect(await fetchOver(appOf(format(async () => {})))).toEqual({ status: 200, body: '', complete: true });
  });
});
