import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFlatTree, makeLibriTTSTree, type Tree } from '../helpers/libritts-tree.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { launchBrowser } from './browser.ts';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

let svc: TestService;
let server: ServerType;
let origin: string;
let browser: BrowserContext;
let tree: Tree;

beforeAll(async () => {
  browser = await launchBrowser();
  svc = await startTestService({ SCAN_WORKERS: 1 });
  server = serve({ fetch: svc.app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((r) => server.once('listening', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  tree = makeLibriTTSTree({ subsets: { 'dev-clean': 3, 'test-clean': 2 }, utterancesPerChapter: 4, clipDurations: [1.2, 2.6, 4.1, 7.3] });
});
afterAll(async () => {
  await browser?.close();
  (server as unknown as { closeAllConnections?: () => void })?.closeAllConnections?.();
  await new Promise((r) => server?.close(r));
  await svc?.close();
  tree?.cleanup();
});

async function openPage(opts: { noEventSource?: boolean } = {}): Promise<Page> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  if (opts.noEventSource) await page.addInitScript(() => delete (window as { EventSource?: unknown }).EventSource);
  await page.goto(`${origin}/`);
  (page as Page & { jsErrors: string[] }).jsErrors = errors;
  return page;
}

async function startScan(page: Page, libPath: string, analysis = 'full') {
  await page.fill('#path', libPath);
  await page.selectOption('#analysis', analysis);
  await page.click('#start');
}

async function expectCompleted(page: Page) {
  await page.waitForSelector('#live-status.completed', { timeout: 30_000 });
  expect(await page.$eval('#progress', (p) => (p as HTMLProgressElement).value)).toBe(100);
  expect(await page.textContent('#progress-text')).toBe('100%');
  expect(await page.getAttribute('#progress', 'aria-label')).toBe('Scan progress');
  const total = tree.files.length + tree.corrupt.size;
  await page.waitForSelector('#results-section:not([hidden])');
  expect(await page.textContent('#results-total')).toBe(`${total} files · ${tree.corrupt.size} failed`);
  expect(await page.textContent('#files')).toBe(`${total} / ${total}`);
  expect(await page.$$eval('#results tbody tr', (rows) => rows.length)).toBe(total);
  await page.waitForSelector('#speakers-section:not([hidden])');
  expect(await page.$$eval('#speakers tbody tr', (rows) => rows.length)).toBe(tree.speakers.size);
  const firstSpeaker = await page.$$eval('#speakers tbody tr:first-child td', (cells) => cells.map((c) => c.textContent));
  expect(firstSpeaker.slice(0, 3)).toEqual(['100', 'Reader 100', 'F']);
  // Both charts are drawn, with one bar per bin / speaker.
  expect(await page.$$eval('#duration-chart svg rect.bar', (r) => r.length)).toBeGreaterThanOrEqual(4);
  expect(await page.$$eval('#minutes-chart svg rect.bar', (r) => r.length)).toBe(tree.speakers.size);
}

describe('dashboard in real Chromium', () => {
  it('starts a scan from the form, follows it live to completed, shows results, speakers and charts', async () => {
    const page = await openPage();
    await startScan(page, tree.root);
    await expect.poll(() => page.textContent('#live-mode')).toBe('Live updates (EventSource)');
    await expectCompleted(page);
    // Failed files can be filtered, with their error codes.
    await page.check('#only-failed');
    await page.waitForFunction((n) => document.querySelectorAll('#results tbody tr').length === n, tree.corrupt.size);
    const codes = await page.$$eval('#results tbody .code', (els) => els.map((e) => e.textContent).sort());
    expect(codes).toEqual([...tree.corrupt.values()].sort());
    // The task list shows the scan with its badge.
    expect(await page.$$eval('#tasks tbody .badge.completed', (b) => b.length)).toBeGreaterThanOrEqual(1);
    // Downloads carry every row.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-jsonl')]);
    const jsonl = fs.readFileSync((await download.path())!, 'utf8');
    expect(jsonl.trimEnd().split('\n')).toHaveLength(tree.corrupt.size); // the failed-only filter applies
    await page.uncheck('#only-failed');
    await page.waitForFunction((n) => document.querySelectorAll('#results tbody tr').length === n, tree.files.length + tree.corrupt.size);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-completed.png'), fullPage: true });
    expect((page as Page & { jsErrors: string[] }).jsErrors).toEqual([]);
    await page.close();
  });

  it('falls back to polling when EventSource is missing, says so, and still completes', async () => {
    const page = await openPage({ noEventSource: true });
    await startScan(page, tree.root, 'header');
    await expect.poll(() => page.textContent('#live-mode')).toMatch(/^Polling/);
    await expectCompleted(page);
    expect((page as Page & { jsErrors: string[] }).jsErrors).toEqual([]);
    await page.close();
  });

  it('cancels a running scan from the page', async () => {
    const big = makeFlatTree(12_000);
    const page = await openPage();
    await startScan(page, big.root, 'full');
    await page.waitForSelector('#live-status.running');
    await page.waitForFunction(() => /^[1-9]\d* \//.test(document.querySelector('#files')?.textContent ?? ''));
    await page.click('#cancel');
    await page.waitForSelector('#live-status.cancelled', { timeout: 10_000 });
    expect(await page.isHidden('#cancel')).toBe(true);
    const files = (await page.textContent('#files'))!;
    expect(Number(files.split(' / ')[0])).toBeLessThan(12_000);
    await page.close();
    big.cleanup();
  });

  it('a crafted link cannot aim its requests at other routes: the task id in the address is one path segment', async () => {
    const page = await browser.newPage();
    const asked: string[] = [];
    page.on('request', (r) => asked.push(new URL(r.url()).pathname));
    await page.goto(`${origin}/#/scan/..%2F..%2F..%2Fmetrics%3F`);
    await expect.poll(() => page.textContent('#task-error')).toMatch(/There is no scan/);
    // The browser resolved `../` of an unencoded id: `/api/voice-library/scan-status/../../../metrics?` was `/metrics`.
    const aimed = asked.filter((p) => p.includes('metrics'));
    expect(aimed.length).toBeGreaterThan(0);
    for (const p of aimed) expect(p, p).toMatch(/^\/api\/voice-library\/scan-[a-z]+\/\.\.%2F\.\.%2F\.\.%2Fmetrics%3F$/);
    await page.close();
  });

  it("shows the API's detail for an invalid path", async () => {
    const page = await openPage();
    await startScan(page, '/definitely/not/here');
    await expect.poll(() => page.textContent('#form-error')).toBe('Path not found: /definitely/not/here');
    await startScan(page, 'relative/path');
    await expect.poll(() => page.textContent('#form-error')).toMatch(/libritts_path must be an absolute path/);
    expect(await page.isHidden('#live')).toBe(true);
    await page.close();
  });
});
