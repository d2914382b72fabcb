import { validate as validateOpenApi } from '@readme/openapi-parser';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { silentLogger } from '../../src/logger.ts';
import { contractCheck } from '../../src/http/contract-check.ts';
import { describe as describeOp, errors, json, openApiDocument } from '../../src/http/openapi.ts';
import { BASE, startTestService, type TestService } from '../helpers/service.ts';

/** The OpenAPI document: valid, complete, and kept true by the contract check. */

let svc: TestService;
let doc: Record<string, any>;
beforeAll(async () => {
  svc = await startTestService();
  const res = await svc.request('/api/openapi.json');
  expect(res.status).toBe(200);
  doc = (await res.json()) as Record<string, any>;
});
afterAll(async () => {
  await svc.close();
});

describe('GET /api/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document (checked by a real validator)', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validateOpenApi(structuredClone(doc) as never);
    expect(result.valid ? [] : result.errors).toEqual([]);
    expect(result.valid).toBe(true);
    expect(result.specification).toBe('OpenAPI');
  });

  it('has every route of the contract, with its methods', () => {
    const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`));
    for (const op of [
      `POST ${BASE}/scan-libritts`,
      `GET ${BASE}/scan-status/{task_id}`,
      `GET ${BASE}/scan-events/{task_id}`,
      `GET ${BASE}/scan-results/{task_id}`,
      `GET ${BASE}/scan-speakers/{task_id}`,
      `GET ${BASE}/scans`,
      `POST ${BASE}/scan-cancel/{task_id}`,
      `DELETE ${BASE}/scans/{task_id}`,
      'GET /healthz',
      'GET /metrics',
      'GET /api/openapi.json',
    ]) {
      expect(ops, op).toContain(op);
    }
  });

  it('declares the error shape, params, auth, and the event stream with its event names', () => {
    const error = doc.components.schemas.Error;
    expect(Object.keys(error.properties).sort()).toEqual(['code', 'detail', 'issues']);
    expect(error.properties.code.enum).toEqual(expect.arrayContaining(['VALIDATION_FAILED', 'TASK_NOT_FOUND', 'QUEUE_UNAVAILABLE', 'STORE_UNAVAILABLE']));
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['accessToken', 'bearer']);
    const status = doc.paths[`${BASE}/scan-status/{task_id}`].get;
    expect(status.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ in: 'path', name: 'task_id', required: true })]));
    expect(Object.keys(status.responses).sort()).toEqual(['200', '304', '401', '404', '500', '503']);
    const events = doc.paths[`${BASE}/scan-events/{task_id}`].get;
    expect(Object.keys(events.responses['200'].content)).toEqual(['text/event-stream']);
    expect(events.description).toMatch(/status.*progress.*completed.*failed.*cancelled/s);
    expect(events.security).toEqual([{ bearer: [] }, { accessToken: [] }]);
    const post = doc.paths[`${BASE}/scan-libritts`].post;
    expect(post.requestBody.content['application/json'].schema.required).toEqual(['libritts_path']);
    expect(Object.keys(post.responses).sort()).toEqual(['202', '400', '401', '403', '413', '415', '429', '500', '503', '507']);
    expect(post.responses['400'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    // The headers the code sends with them: Retry-After with 429, 503 and 507; WWW-Authenticate with 401.
    for (const code of ['429', '503', '507']) expect(Object.keys(post.responses[code].headers ?? {}), code).toEqual(['Retry-After']);
    expect(Object.keys(post.responses['401'].headers)).toEqual(['WWW-Authenticate']);
    const results = doc.paths[`${BASE}/scan-results/{task_id}`].get;
    expect(Object.keys(results.responses['200'].content).sort()).toEqual(['application/json', 'application/x-ndjson', 'text/csv']);
    expect(results.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['task_id', 'limit', 'cursor', 'only', 'format']));
  });

  it("/docs serves its page's own files of swagger-ui-dist and no other (its stock index.html, package.json, source maps)", async () => {
    for (const f of ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png']) expect((await svc.request(`/docs/assets/${f}`)).status, f).toBe(200);
    for (const f of ['', 'index.html', 'package.json', 'swagger-ui-bundle.js.map', 'oauth2-redirect.html', 'absolute-path.js', '..%2Fpackage.json']) {
      expect((await svc.request(`/docs/assets/${f}`)).status, f).toBe(404);
    }
  });

  it('marks every field of a snapshot and its summary required: the server always sends them (files_reused was optional, from its default for old records)', () => {
    const snapshot = doc.components.schemas.TaskSnapshot;
    expect([...snapshot.required].sort()).toEqual(Object.keys(snapshot.properties).sort());
    expect(snapshot.required).toContain('files_reused');
    const summary = snapshot.properties.summary.anyOf.find((s: { type?: string }) => s.type === 'object');
    expect([...summary.required].sort()).toEqual(Object.keys(summary.properties).sort());
  });
});

describe('auth as the document declares it', () => {
  it('every /api operation that lists the accessToken scheme takes ?access_token=, and no other does', async () => {
    const local = await startTestService({ API_TOKEN: 'tok-DOC-1' });
    try {
      const unknown = '00000000-0000-4000-8000-000000000000';
      let withQuery = 0;
      for (const [p, item] of Object.entries(doc.paths as Record<string, Record<string, { security?: Record<string, string[]>[] }>>)) {
        if (!p.startsWith(BASE) || !item.get) continue;
        const url = p.replace('{task_id}', unknown).replace('{speaker_id}', '1');
        const sep = url.includes('?') ? '&' : '?';
        const res = await local.request(`${url}${sep}access_token=tok-DOC-1&path=a.wav&format=nemo`);
        await res.arrayBuffer();
        const declared = (item.get.security ?? []).some((s) => 'accessToken' in s);
        // Past auth, an unknown task is a 404; refused by auth, a 401.
        expect(res.status === 401, `${p}: declared ${declared ? '' : 'no '}access_token, answered ${res.status}`).toBe(!declared);
        if (declared) withQuery++;
      }
      expect(withQuery).toBe(4); // events, audio, results (downloads), export
    } finally {
      await local.close();
    }
  });
});

describe('the contract check', () => {
  /** A tiny app whose handlers break their own documents, checked the way every test server is. */
  function breakingApp() {
    const app = new Hono();
    const Ok = z.object({ n: z.number().int() });
    app.use('*', contractCheck(openApiDocument(app), silentLogger));
    app.get('/api/x/:id', describeOp({ tag: 't', summary: 'x', responses: { 200: json(Ok, 'ok'), ...errors(404) } }), (c) => {
      const id = c.req.param('id');
      if (id === 'wrong-body') return c.json({ n: 'one' });
      if (id === 'undeclared-status') return c.json({ detail: 'x', code: 'TASK_ACTIVE', issues: [] }, 409);
      if (id === 'wrong-type') return c.text('n=1');
      if (id === 'bad-error') return c.json({ detail: 'x', code: 'NO_SUCH_CODE', issues: [] }, 404);
      return c.json({ n: 1 });
    });
    app.get('/api/undocumented', (c) => c.json({}));
    return app;
  }

  it.each([
    ['wrong-body', /body does not match its schema at \/n/],
    ['undeclared-status', /answered 409, a status its document does not declare/],
    ['wrong-type', /answered text\/plain, which its document does not declare/],
    ['bad-error', /body does not match its schema at \/code/],
  ])('turns a response that breaks the document (%s) into a 500 naming the breach', async (id, breach) => {
    const res = await breakingApp().request(`/api/x/${id}`);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { detail: string }).detail).toMatch(breach);
  });

  it('lets a response that keeps the document through, and refuses an undocumented API route', async () => {
    const app = breakingApp();
    expect((await app.request('/api/x/fine')).status).toBe(200);
    const res = await app.request('/api/undocumented');
    expect(res.status).toBe(500);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/is not in the document/);
  });

  it('is on in every test server (the suite runs with it)', () => {
    expect(svc.config.CONTRACT_CHECK).toBe(true);
    expect(process.env.CONTRACT_CHECK).toBe('1');
  });
});
