import { execSync } from 'node:child_process';
import fs from 'node:fs';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { tempDir } from '../helpers/libritts-tree.ts';

export const CHROMIUM = '/usr/bin/chromium';
const INSTALL = 'apt-get update && apt-get install -y chromium';
/** The viewport pages open with, and the phone the layout must fit (an iPhone 12–15's CSS width). */
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** Makes sure Debian's Chromium is there: installs it when running as root, else fails naming the command. */
export function ensureChromium(): void {
  if (fs.existsSync(CHROMIUM)) return;
  if (process.getuid?.() === 0) {
    execSync(INSTALL, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600_000 });
    if (fs.existsSync(CHROMIUM)) return;
  }
  throw new Error(`Chromium is missing at ${CHROMIUM}; the browser tests need it. Install it with: sudo ${INSTALL}`);
}

/** Headless Debian Chromium with the flags this closed network needs and a fresh profile. */
export async function launchBrowser(): Promise<BrowserContext> {
  ensureChromium();
  return chromium.launchPersistentContext(tempDir('vl-chromium-'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: DESKTOP,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** What went wrong in a page: uncaught errors, and console errors (CSP refusals and failed loads among them). */
export interface PageProblems {
  pageErrors: string[];
  consoleErrors: string[];
}

/** Where the dashboard keeps the API token for the tab (public/api.js). */
const TOKEN_KEY = 'voice-library.token';

/**
 * A new page of `browser` at `url`, recording its problems from the start; with `token`, the tab
 * holds that API token before its first script runs, as if it had been typed into the token box.
 */
export async function openPage(browser: BrowserContext, url: string, { token }: { token?: string } = {}): Promise<{ page: Page; problems: PageProblems }> {
  const page = await browser.newPage();
  if (token) await page.addInitScript(([key, value]) => sessionStorage.setItem(key!, value!), [TOKEN_KEY, token]);
  const problems: PageProblems = { pageErrors: [], consoleErrors: [] };
  page.on('pageerror', (e) => problems.pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.consoleErrors.push(m.text());
  });
  await page.goto(url);
  return { page, problems };
}

/**
 * How many pixels the page scrolls sideways at a phone's width (0 when it fits); the viewport is
 * put back to the desktop size afterwards.
 */
export async function sidewaysScrollAt(page: Page, viewport = PHONE): Promise<number> {
  await page.setViewportSize(viewport);
  // Two frames, so the layout at the new size is done before it is measured.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await page.setViewportSize(DESKTOP);
  return Math.max(0, overflow);
}

/** Fails the test when the page scrolls sideways at a phone's width. */
export async function expectFitsPhone(page: Page, view: string): Promise<void> {
  expect(await sidewaysScrollAt(page), `the ${view} scrolls sideways at 390 px`).toBe(0);
}

/** No uncaught error, and no console error but the failed loads of `expectedStatus` the test caused. */
export function expectNoProblems(problems: PageProblems, expectedStatus?: number): void {
  expect(problems.pageErrors).toEqual([]);
  expect(problems.consoleErrors.filter((e) => !expectedStatus || !e.includes(`status of ${expectedStatus}`))).toEqual([]);
}

/** The paths the dashboard's results table shows, in order. */
export const shownPaths = (page: Page): Promise<(string | null)[]> => page.$$eval('#results tbody td.path', (cells) => cells.map((c) => c.textContent));
