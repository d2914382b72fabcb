import fs from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ageTree, makeLibriTTSTree, type Tree } from '../helpers/libritts-tree.ts';
import { BASE, type TestService } from '../helpers/service.ts';
import { expectAccessible } from './axe.ts';
import { expectFitsPhone, expectNoProblems, launchBrowser, openPage, shownPaths } from './browser.ts';
import { serveTestService } from './served.ts';

/**
 * The training-manifest menu of the results view and incremental rescans from the scan form, in
 * Chromium, against a service with API_TOKEN set: the downloads and the scans all carry the token.
 */

const TOKEN = 'export-token-0123456789';

interface Snapshot {
  task_id: string;
  status: string;
  files_total: number | null;
  files_done: number;
  files_reused: number;
  summary: { files_reused: number } | null;
}
interface Row {
  path: string;
  duration_s: number | null;
  text_original: string | null;
  speaker_id: string | null;
}

let served: Awaited<ReturnType<typeof serveTestService>>;
let svc: TestService;
let origin: string;
let browser: BrowserContext;
let tree: Tree;
/** Every file the scans see: good ones and the tree's corrupt ones. */
let files: number;
/** A full scan made through the API: the reference the form's rescans reuse, and the export's rows. */
let reference: string;

/** The API with the bearer token, as the test's own client. */
const authed = (pathname: string, init: RequestInit = {}) =>
  svc.request(`${BASE}${pathname}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string>) } });
const apiJson = async <T>(pathname: string): Promise<T> => (await authed(pathname)).json() as Promise<T>;

beforeAll(async () => {
  tree = makeLibriTTSTree({ subsets: { 'dev-clean': 2, 'test-clean': 1 }, chaptersPerSpeaker: 2, utterancesPerChapter: 4, clipDurations: [1.2, 2.6, 4.1, 7.3] });
  // Files written within the last 2 s are never reused (racy mtimes): the tree must have settled.
  ageTree(tree.root);
  files = tree.files.length + tree.corrupt.size;
  [browser, served] = await Promise.all([launchBrowser(), serveTestService({ API_TOKEN: TOKEN })]);
  ({ svc, origin } = served);
  const res = await authed('/scan-libritts', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ libritts_path: tree.root, analysis: 'full' }),
  });
  expect(res.status).toBe(202);
  reference = ((await res.json()) as { task_id: string }).task_id;
  await svc.waitDone(reference);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await served?.close();
  tree?.cleanup();
});

/** Starts a scan of the tree from the form; returns the POST body the page sent and the new task id. */
async function scanFromForm(page: Page): Promise<{ body: Record<string, unknown>; taskId: string }> {
  await page.fill('#path', tree.root);
  const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith(`${BASE}/scan-libritts`) && r.request().method() === 'POST'), page.click('#start')]);
  expect(response.status()).toBe(202);
  const taskId = ((await response.json()) as { task_id: string }).task_id;
  return { body: response.request().postDataJSON() as Record<string, unknown>, taskId };
}

/** Waits until the live view shows `taskId`'s final snapshot (showTask blanks the previous task's numbers). */
async function liveViewDone(page: Page, taskId: string): Promise<Snapshot> {
  const snap = (await svc.waitDone(taskId)) as unknown as Snapshot;
  await page.waitForFunction(
    (id) =>
      document.getElementById('live-id')?.textContent === id &&
      document.getElementById('live-status')?.classList.contains('completed') &&
      document.getElementById('reused')?.textContent !== '–',
    taskId,
    { timeout: 15_000 },
  );
  return snap;
}

describe('export menu and incremental rescans in Chromium (with API_TOKEN)', () => {
  it('a rescan from the form reuses every unchanged file and the live view says how many; unticked, it reads them all', async () => {
    const { page, problems } = await openPage(browser, `${origin}/`, { token: TOKEN });
    await page.waitForSelector(`#tasks tr[data-id="${reference}"]`); // the token authorised the list
    expect(await page.isChecked('#reuse')).toBe(true);
    expect(await page.textContent('label:has(#reuse)')).toMatch(/Reuse unchanged files from the latest scan of this folder/);

    // Ticked (the default): every file is as the reference scan saw it, so every row is copied.
    const reused = await scanFromForm(page);
    expect(reused.body).toEqual({ libritts_path: tree.root, analysis: 'full', reuse: 'auto' });
    const reusedSnap = await liveViewDone(page, reused.taskId);
    const reusedStatus = await apiJson<Snapshot>(`/scan-status/${reused.taskId}`);
    expect(reusedStatus.files_reused).toBe(files);
    expect(reusedStatus.summary?.files_reused).toBe(files);
    expect(reusedSnap.files_reused).toBe(files);
    expect(await page.textContent('#reused')).toBe(String(reusedStatus.files_reused));
    expect(await page.textContent('#files')).toBe(`${files} / ${files}`);
    expect(await page.textContent('dl.stats div:has(#reused) dt')).toBe('Reused');
    // The list of scans says it too.
    await expect.poll(() => page.textContent(`#tasks tr[data-id="${reused.taskId}"] td.reused`)).toBe(String(files));
    await page.waitForSelector('#results-section:not([hidden])');
    await expectAccessible(page, 'live view of a rescan');
    await expectFitsPhone(page, 'live view of a rescan');

    // Unticked: `reuse: "none"`, every file read again.
    await page.uncheck('#reuse');
    const fresh = await scanFromForm(page);
    expect(fresh.body).toEqual({ libritts_path: tree.root, analysis: 'full', reuse: 'none' });
    await liveViewDone(page, fresh.taskId);
    const freshStatus = await apiJson<Snapshot>(`/scan-status/${fresh.taskId}`);
    expect(freshStatus.files_reused).toBe(0);
    expect(freshStatus.files_done).toBe(files);
    expect(await page.textContent('#reused')).toBe('0');
    await expect.poll(() => page.textContent(`#tasks tr[data-id="${fresh.taskId}"] td.reused`)).toBe('0');
    expectNoProblems(problems);
    await page.close();
  });

  it('the export menu downloads each manifest with the filters and sort of the table, named by Content-Disposition; a relative prefix shows the API detail', async () => {
    // A search and a subset, sorted, on a page of 5: the manifest has every matching row, not the page.
    const filters = 'q=chapter+1000&subset=dev-clean&sort=-duration_s';
    const { page, problems } = await openPage(browser, `${origin}/#/scan/${reference}?${filters}&limit=5`, { token: TOKEN });
    const shown = await apiJson<{ items: Row[]; total: number }>(`/scan-results/${reference}?${filters}&limit=5`);
    expect(shown.total).toBeGreaterThan(5);
    await expect.poll(() => shownPaths(page)).toEqual(shown.items.map((r) => r.path));
    const all = await apiJson<{ items: Row[]; total: number }>(`/scan-results/${reference}?${filters}&only=ok&limit=1000`);
    expect(all.items).toHaveLength(shown.total); // the search leaves the failed files out anyway

    // Keyboard: the menu's summary takes the focus and opens with Enter.
    expect(await page.getAttribute('#export-menu', 'open')).toBeNull();
    await page.focus('#export-menu > summary');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getAttribute('#export-menu', 'open')).not.toBeNull();
    await expectAccessible(page, 'results view with the export menu open');
    await expectFitsPhone(page, 'results view with the export menu open');

    /** Downloads from the menu and fetches the same export from the test: the request, the file, the API's answer. */
    const exportOnce = async () => {
      const made: string[] = [];
      const seen = (r: { url(): string; method(): string }) => void (r.url().includes(`${BASE}/scan-export/`) && made.push(r.method()));
      page.on('request', seen);
      const [download, request] = await Promise.all([
        page.waitForEvent('download'),
        page.waitForRequest((r) => r.url().includes(`${BASE}/scan-export/`)),
        page.click('#export-download'),
      ]);
      page.off('request', seen);
      // The page checks with a HEAD, which reads no row, and makes no GET: the export is made once,
      // for the browser's download of the link (not a page request; its URL is checked below).
      // A GET checked it before, and the server built every manifest twice.
      expect(made).toEqual(['HEAD']);
      const sent = new URL(request.url()).searchParams;
      const res = await authed(`/scan-export/${reference}?${sent}`);
      expect(res.status).toBe(200);
      const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1];
      expect(download.suggestedFilename()).toBe(name);
      // The browser streams the file itself, from a link that carries the token (nothing held in the page).
      expect(new URL(download.url()).searchParams.get('access_token')).toBe(TOKEN);
      await expect.poll(() => page.textContent('#export-status')).toBe(`Download started: ${name}.`);
      return { sent: Object.fromEntries(sent), authorization: request.headers()['authorization'], file: fs.readFileSync((await download.path())!, 'utf8'), api: await res.text() };
    };

    // NeMo, the original transcripts, under the training machine's root.
    await page.selectOption('#export-format', 'nemo');
    await page.selectOption('#export-text', 'original');
    await page.fill('#export-prefix', '/mnt/train/LibriTTS');
    const nemo = await exportOnce();
    expect(nemo.sent).toEqual({ q: 'chapter 1000', subset: 'dev-clean', sort: '-duration_s', format: 'nemo', text: 'original', path_prefix: '/mnt/train/LibriTTS' });
    expect(nemo.authorization).toBe(`Bearer ${TOKEN}`);
    expect(nemo.file).toBe(nemo.api);
    const lines = nemo.file
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { audio_filepath: string; text: string; speaker_id: string });
    expect(lines.map((l) => l.audio_filepath)).toEqual(all.items.map((r) => `/mnt/train/LibriTTS/${r.path}`)); // every row, in the table's order
    expect(lines.map((l) => l.text)).toEqual(all.items.map((r) => r.text_original));

    // Coqui: normalized text, the scanned root.
    await page.selectOption('#export-format', 'coqui');
    await page.selectOption('#export-text', 'normalized');
    await page.fill('#export-prefix', '');
    const coqui = await exportOnce();
    expect(coqui.sent).toEqual({ q: 'chapter 1000', subset: 'dev-clean', sort: '-duration_s', format: 'coqui', text: 'normalized' });
    expect(coqui.file).toBe(coqui.api);
    expect(coqui.file.trimEnd().split('\n')).toHaveLength(all.items.length + 1); // the header line

    // The table's filters change: the next export follows them.
    await page.fill('#f-q', '');
    await page.press('#f-q', 'Enter');
    await expect.poll(() => new URL(page.url()).hash).toBe(`#/scan/${reference}?subset=dev-clean&sort=-duration_s&limit=5`);
    await page.selectOption('#export-format', 'audiofolder');
    const audiofolder = await exportOnce();
    expect(audiofolder.sent).toEqual({ subset: 'dev-clean', sort: '-duration_s', format: 'audiofolder', text: 'normalized' });
    expect(audiofolder.file).toBe(audiofolder.api);
    expect(audiofolder.file.trimEnd().split('\n').length).toBeGreaterThan(all.items.length);

    // A relative prefix: the API's 400 detail, shown in the menu.
    await page.fill('#export-prefix', 'relative/dir');
    await page.click('#export-download');
    const bad = await authed(`/scan-export/${reference}?subset=dev-clean&format=audiofolder&path_prefix=relative%2Fdir`);
    expect(bad.status).toBe(400);
    const { detail } = (await bad.json()) as { detail: string };
    await expect.poll(() => page.textContent('#export-error')).toBe(detail);
    expect(await page.isVisible('#export-error')).toBe(true);
    expect(await page.textContent('#export-status')).toBe('');
    await expectAccessible(page, 'export menu with an error');
    expectNoProblems(problems, 400); // the refused export
    await page.close();
  });
});
