import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/service.ts';
import { launchBrowser } from './browser.ts';

/** GET /docs in Chromium: the API reference renders from our own files, under our CSP. */

let svc: TestService;
let server: ServerType;
let origin: string;
let browser: BrowserContext;

beforeAll(async () => {
  browser = await launchBrowser();
  svc = await startTestService();
  server = serve({ fetch: svc.app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((r) => server.once('listening', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await browser?.close();
  (server as unknown as { closeAllConnections?: () => void })?.closeAllConnections?.();
  await new Promise((r) => server?.close(r));
  await svc?.close();
});

describe('/docs', () => {
  it('renders every operation of the document, loads nothing from another origin, and breaks no CSP rule', async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    const res = await page.goto(`${origin}/docs`);
    expect(res!.status()).toBe(200);
    expect(res!.headers()['content-security-policy']).toMatch(/script-src 'self'/);
    await page.waitForSelector('.opblock', { timeout: 30_000 });
    const doc = (await (await fetch(`${origin}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    await page.waitForFunction((n) => document.querySelectorAll('.opblock').length >= n, operations, { timeout: 30_000 });
    expect(await page.locator('.opblock').count()).toBe(operations);
    await expect.poll(() => page.getByText('Start a scan').count()).toBeGreaterThan(0);
    // Open one operation: its responses, the error shape among them, render too.
    await page.locator('.opblock-summary', { hasText: '/api/voice-library/scan-libritts' }).first().click();
    await page.waitForSelector('.responses-table', { timeout: 10_000 });
    expect(requests.length).toBeGreaterThan(2);
    for (const url of requests) expect(new URL(url).origin, url).toBe(origin);
    expect(problems).toEqual([]);
    await page.close();
  });
});
