import type { SpeakerDetail } from '../../src/http/responses.ts';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { BASE, type TestService } from '../helpers/service.ts';
import { makeVoiceTree, type VoiceTree } from '../helpers/voice-tree.ts';
import { toneWav } from '../helpers/wav.ts';
import { expectAccessible } from './axe.ts';
import { expectFitsPhone, expectNoProblems, launchBrowser, openPage, shownPaths } from './browser.ts';
import { serveTestService } from './served.ts';

/**
 * The voice-library pages in Chromium, over a tree of speech-like clips with known qualities
 * (voice-tree.ts): the results table (play, search, sort, filters in the URL, pages), the speaker
 * page with its reference clips, an axe-core audit and the phone layout of each view.
 */

interface Row {
  path: string;
  utterance_id: string | null;
  duration_s: number | null;
  text_normalized: string | null;
}

let served: Awaited<ReturnType<typeof serveTestService>>;
let svc: TestService;
let origin: string;
let browser: BrowserContext;
let tree: VoiceTree;
let full: string;
let header: string;

beforeAll(async () => {
  tree = makeVoiceTree();
  [browser, served] = await Promise.all([launchBrowser(), serveTestService()]);
  ({ svc, origin } = served);
  full = await svc.startScan({ libritts_path: tree.root, analysis: 'full' });
  await svc.waitDone(full);
  header = await svc.startScan({ libritts_path: tree.root, analysis: 'header' });
  await svc.waitDone(header);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await served?.close();
  tree?.cleanup();
});

async function apiJson<T>(pathname: string): Promise<T> {
  const res = await svc.request(`${BASE}${pathname}`);
  return (await res.json()) as T;
}
const resultsPage = (task: string, query: string) => apiJson<{ items: Row[]; total: number; next_cursor: string | null; detail?: string }>(`/scan-results/${task}?${query}`);

/** Waits until the table shows the rows the API gives for `query`, in its order; returns that page. */
async function expectRows(page: Page, task: string, query: string) {
  const api = await resultsPage(task, query);
  await expect.poll(() => shownPaths(page), { message: `rows for ${query}` }).toEqual(api.items.map((r) => r.path));
  return api;
}

/** readyState, duration and error of the <audio> matched by `selector`, once its metadata is in. */
async function audioState(page: Page, selector: string) {
  await page.waitForFunction(
    (sel) => (document.querySelector(sel) as HTMLAudioElement | null)?.readyState! >= 1 || !!(document.querySelector(sel) as HTMLAudioElement)?.error,
    selector,
    {
      timeout: 10_000,
    },
  );
  return page.$eval(selector, (a) => {
    const audio = a as HTMLAudioElement;
    return { readyState: audio.readyState, duration: audio.duration, error: audio.error && { code: audio.error.code, message: audio.error.message }, src: audio.currentSrc };
  });
}

/** Seeks the <audio> matched by `selector` to `share` of its duration; the position it is at once seeked. */
const seeksTo = (page: Page, selector: string, share: number) =>
  page.$eval(
    selector,
    (a, share) =>
      new Promise<number>((resolve) => {
        const audio = a as HTMLAudioElement;
        audio.addEventListener('seeked', () => resolve(audio.currentTime), { once: true });
        audio.currentTime = audio.duration * share;
      }),
    share,
  );

/** Pixels of the canvas that are not transparent: a drawn waveform has many. */
const inkedPixels = (page: Page, selector: string) =>
  page.$eval(selector, (c) => {
    const canvas = c as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
    return n;
  });

describe('voice library pages in Chromium', () => {
  it('results: plays a row with its waveform, searches transcripts, sorts by SNR; axe-clean and phone-wide', async () => {
    // The home view: the form and the list of scans, whose View links lead to a scan's view.
    const { page, problems } = await openPage(browser, `${origin}/`);
    await page.waitForSelector(`#tasks tr[data-id="${full}"]`);
    await expectAccessible(page, 'home view');
    await expectFitsPhone(page, 'home view');
    await page.click(`#tasks tr[data-id="${full}"] a`);
    await expect.poll(() => new URL(page.url()).hash).toBe(`#/scan/${full}`);
    const all = await expectRows(page, full, 'limit=50');
    await page.waitForSelector('#speakers-section:not([hidden])');
    expect(await page.$$eval('#speakers tbody tr', (r) => r.length)).toBe(8);
    expect(await page.textContent('#results-count')).toBe(`${all.total} matching files · showing 1–${all.items.length}`);

    // Play: the shared player loads the row's clip, converted to 16-bit PCM, and draws it.
    const clip = all.items.find((r) => r.path.startsWith('dev-clean/300/') && r.duration_s === 8)!;
    const play = page.getByRole('button', { name: `Play ${clip.utterance_id}`, exact: true });
    await play.click();
    const audio = await audioState(page, '#player-audio');
    expect(audio.error).toBeNull();
    expect(audio.readyState).toBeGreaterThanOrEqual(1);
    expect(audio.duration).toBeCloseTo(clip.duration_s!, 1);
    // 16-bit PCM plays as it is, with byte ranges, so a click on its timeline seeks (the
    // conversion, streamed whole, started the clip again).
    expect(audio.src).not.toContain('as=pcm16');
    expect(await seeksTo(page, '#player-audio', 0.75)).toBeCloseTo(clip.duration_s! * 0.75, 1);
    expect(await page.textContent('#player-title')).toBe(clip.utterance_id);
    expect(await page.textContent('#player-text')).toBe(clip.text_normalized);
    await expect.poll(() => play.getAttribute('aria-pressed')).toBe('true');
    await page.waitForSelector('#player-wave[data-drawn]:not([hidden])');
    expect(await inkedPixels(page, '#player-wave')).toBeGreaterThan(100);
    await play.click(); // pauses
    await expect.poll(() => play.getAttribute('aria-pressed')).toBe('false');
    // Audited with everything shown: results, the player with its waveform, speakers and charts.
    await expectAccessible(page, 'scan view with results, player and speakers');
    await expectFitsPhone(page, 'scan view with results, player and speakers');

    // Search, from the keyboard: every row the API counts is shown, with the word marked.
    await page.focus('#f-q');
    await page.keyboard.type('bravo');
    await page.keyboard.press('Enter');
    await expect.poll(() => new URL(page.url()).hash).toBe(`#/scan/${full}?q=bravo`);
    const bravo = await expectRows(page, full, 'q=bravo&limit=50');
    expect(bravo.total).toBeGreaterThan(0);
    expect(bravo.total).toBeLessThan(all.total);
    expect(await page.$$eval('#results tbody tr', (r) => r.length)).toBe(bravo.total);
    expect(await page.textContent('#results-count')).toMatch(new RegExp(`^${bravo.total} matching files`));
    const transcripts = await page.$$eval('#results tbody td.text', (cells) => cells.map((c) => c.textContent));
    for (const t of transcripts) expect(t!.split(' ')).toContain('bravo');
    expect(await page.$$eval('#results tbody mark', (m) => m.map((x) => x.textContent))).toEqual(Array(bravo.total).fill('bravo'));

    // Sort: a click sorts ascending, Enter on the same button descending; aria-sort follows.
    const snr = page.locator('th[data-sort="snr_db"]');
    await snr.getByRole('button', { name: 'SNR dB', exact: true }).click();
    await expectRows(page, full, 'q=bravo&sort=snr_db&limit=50');
    expect(await snr.getAttribute('aria-sort')).toBe('ascending');
    await page.keyboard.press('Enter'); // the button keeps the focus
    await expectRows(page, full, 'q=bravo&sort=-snr_db&limit=50');
    expect(await snr.getAttribute('aria-sort')).toBe('descending');
    expect(await page.$$eval('#results th[aria-sort]', (ths) => ths.length)).toBe(1);
    expect(new URL(page.url()).hash).toBe(`#/scan/${full}?q=bravo&sort=-snr_db`);
    expectNoProblems(problems);
    await page.close();
  });

  it('a shared filtered URL restores its inputs and rows on reload; pages follow the cursor; downloads filter; bad filters show the API detail', async () => {
    const query = 'q=bravo&speaker_id=300%2C400&min_duration=6&max_duration=12&min_snr_db=10&clipped=false&sort=-snr_db';
    const { page, problems } = await openPage(browser, `${origin}/#/scan/${full}?${query}`);
    const inputs = () =>
      page.evaluate(() => ({
        ...Object.fromEntries(
          ['f-q', 'f-speaker', 'f-subset', 'f-min-duration', 'f-max-duration', 'f-min-snr', 'f-clipped'].map((id) => [id, (document.getElementById(id) as HTMLInputElement).value]),
        ),
        failedOnly: (document.getElementById('only-failed') as HTMLInputElement).checked,
        sort: document.querySelector('#results th[aria-sort]')?.getAttribute('data-sort') + ' ' + document.querySelector('#results th[aria-sort]')?.getAttribute('aria-sort'),
      }));
    const expected = {
      'f-q': 'bravo',
      'f-speaker': '300,400',
      'f-subset': '',
      'f-min-duration': '6',
      'f-max-duration': '12',
      'f-min-snr': '10',
      'f-clipped': 'false',
      failedOnly: false,
      sort: 'snr_db descending',
    };
    const filtered = await expectRows(page, full, `${query}&limit=50`);
    expect(filtered.total).toBeGreaterThan(0);
    expect(await inputs()).toEqual(expected);
    const rows = await shownPaths(page);
    await page.reload();
    await expectRows(page, full, `${query}&limit=50`);
    expect(await shownPaths(page)).toEqual(rows);
    expect(await inputs()).toEqual(expected);
    await expectAccessible(page, 'filtered results view');
    await expectFitsPhone(page, 'filtered results view');

    // The downloads carry the same filters.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
    const csv = fs
      .readFileSync((await download.path())!, 'utf8')
      .trimEnd()
      .split('\n');
    expect(csv).toHaveLength(filtered.total + 1); // the header line
    for (const path of rows) expect(csv.some((line) => line.includes(path!))).toBe(true);

    // An invalid filter: the API's detail, no rows, and the input keeps what was typed.
    await page.fill('#f-min-duration', 'abc');
    await page.press('#f-min-duration', 'Enter');
    const invalid = await resultsPage(full, 'min_duration=abc');
    await expect.poll(() => page.textContent('#results-error')).toBe(invalid.detail);
    expect(await page.isVisible('#results-error')).toBe(true);
    expect(await page.$$eval('#results tbody tr', (r) => r.length)).toBe(0);
    await page.reload();
    await expect.poll(() => page.textContent('#results-error')).toBe(invalid.detail);
    expect(await page.inputValue('#f-min-duration')).toBe('abc');
    await page.click('#clear-filters');
    await expectRows(page, full, 'sort=-snr_db&limit=50'); // Clear keeps the sort
    expect(await page.isHidden('#results-error')).toBe(true);

    // Pages: the cursor is in the URL too, so a reload shows the same page.
    await page.goto(`${origin}/#/scan/${full}?subset=dev-clean&sort=-duration_s&limit=20`);
    const first = await expectRows(page, full, 'subset=dev-clean&sort=-duration_s&limit=20');
    expect(first.next_cursor).not.toBeNull();
    expect(await page.inputValue('#page-size')).toBe('20');
    await page.click('#next-page');
    const second = await expectRows(page, full, `subset=dev-clean&sort=-duration_s&limit=20&cursor=${first.next_cursor}`);
    expect(await page.textContent('#results-count')).toBe(`${first.total} matching files · showing 21–${20 + second.items.length}`);
    await page.reload();
    await expectRows(page, full, `subset=dev-clean&sort=-duration_s&limit=20&cursor=${first.next_cursor}`);
    expect(await page.textContent('#page-label')).toBe('Page 2');
    await page.click('#first-page');
    await expectRows(page, full, 'subset=dev-clean&sort=-duration_s&limit=20');
    expectNoProblems(problems, 400); // the invalid filter's answers
    await page.close();
  });

  it('speaker page: facts and reference clips that play beside their transcripts; reloads; axe-clean and phone-wide', async () => {
    const { page, problems } = await openPage(browser, `${origin}/#/scan/${full}`);
    await page.locator('#speakers').getByRole('link', { name: '300', exact: true }).click();
    await expect.poll(() => new URL(page.url()).hash).toBe(`#/scan/${full}/speaker/300`);
    const s = await apiJson<SpeakerDetail>(`/scan-speakers/${full}/300`);
    const facts = () => page.$$eval('#speaker-facts dd', (dds) => dds.map((d) => d.textContent));
    const expectedFacts = ['Voice 300', 'F', 'dev-clean', `${s.utterances} (+${s.failed} failed)`, (s.duration_s / 60).toFixed(2), `${s.median_snr_db!.toFixed(1)} dB`];
    await expect.poll(facts).toEqual(expectedFacts);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('speaker-h'); // focus moved to the new page
    expect(await page.isHidden('#results-section')).toBe(true);

    const clips = page.locator('#refs > li');
    expect(s.reference_clips.length).toBe(3);
    await expect.poll(() => clips.count()).toBe(3);
    for (const [i, c] of s.reference_clips.entries()) {
      const li = clips.nth(i);
      expect(await li.locator('.path').textContent()).toBe(c.path);
      expect(await li.locator('.transcript').textContent()).toBe(c.text_normalized);
      expect(await li.locator('.badge').textContent()).toBe('eligible');
      const audio = await audioState(page, `#refs > li:nth-child(${i + 1}) audio`);
      expect(audio.error, c.path).toBeNull();
      expect(audio.readyState).toBeGreaterThanOrEqual(1);
      expect(audio.duration).toBeCloseTo(c.duration_s!, 1);
      expect(audio.src).not.toContain('as=pcm16');
      expect(await li.locator('audio').getAttribute('preload')).toBe('metadata');
    }
    // Playing a clip draws its waveform; starting another pauses the first.
    await page.$eval('#refs > li:nth-child(1) audio', (a) => (a as HTMLAudioElement).play());
    await page.waitForSelector('#refs > li:nth-child(1) canvas[data-drawn]:not([hidden])');
    expect(await inkedPixels(page, '#refs > li:nth-child(1) canvas')).toBeGreaterThan(100);
    await page.$eval('#refs > li:nth-child(2) audio', (a) => (a as HTMLAudioElement).play());
    await expect.poll(() => page.$$eval('#refs audio', (as) => as.map((a) => (a as HTMLAudioElement).paused))).toEqual([true, false, true]);
    await page.$eval('#refs > li:nth-child(2) audio', (a) => (a as HTMLAudioElement).pause());

    await expectAccessible(page, 'speaker page');
    await expectFitsPhone(page, 'speaker page');
    await page.reload();
    await expect.poll(facts).toEqual(expectedFacts);
    await expect.poll(() => clips.count()).toBe(3);
    expect(await page.isHidden('#refs-note')).toBe(true);

    // Its links: every clip of the speaker in the results, and back to the scan.
    await page.click('#speaker-clips');
    await expectRows(page, full, 'speaker_id=300&limit=50');
    expect(await page.inputValue('#f-speaker')).toBe('300');
    await page.goBack();
    await expect.poll(facts).toEqual(expectedFacts);
    // Back to the results as they were last shown: this speaker's clips.
    await page.click('#speaker-back');
    await expectRows(page, full, 'speaker_id=300&limit=50');
    expectNoProblems(problems);
    await page.close();
  });

  it('speaker page: clips that miss the rules say why; a header-only scan says it ranks by duration; an unknown speaker shows the API detail', async () => {
    const { page, problems } = await openPage(browser, `${origin}/#/scan/${full}/speaker/${tree.nothingEligible}`);
    const none = await apiJson<SpeakerDetail>(`/scan-speakers/${full}/${tree.nothingEligible}`);
    const clips = page.locator('#refs > li');
    await expect.poll(() => clips.count()).toBe(none.reference_clips.length);
    expect(await page.$$eval('#refs .why', (w) => w.map((x) => x.textContent))).toEqual(none.reference_clips.map((c) => `Not eligible: ${c.why}.`));
    expect(await page.$$eval('#refs .badge', (b) => b.map((x) => x.textContent))).toEqual(none.reference_clips.map(() => 'not eligible'));
    expect(await page.textContent('#refs-note')).toMatch(/No clip meets every rule/);
    expect((await audioState(page, '#refs > li:nth-child(1) audio')).error).toBeNull();
    await expectAccessible(page, 'speaker page with ineligible clips');

    await page.goto(`${origin}/#/scan/${header}/speaker/${tree.rules}`);
    const h = await apiJson<SpeakerDetail>(`/scan-speakers/${header}/${tree.rules}`);
    expect(h.quality).toBe('header');
    await expect.poll(() => page.textContent('#refs-note')).toMatch(/ranked by duration alone/);
    await expect.poll(() => page.$$eval('#refs .path', (p) => p.map((x) => x.textContent))).toEqual(h.reference_clips.map((c) => c.path));
    expect(await page.textContent('#sp-snr')).toBe('–');

    await page.goto(`${origin}/#/scan/${full}/speaker/999`);
    const missing = await apiJson<{ detail: string }>(`/scan-speakers/${full}/999`);
    await expect.poll(() => page.textContent('#speaker-error')).toBe(missing.detail);
    expect(await clips.count()).toBe(0);
    expectNoProblems(problems, 404); // the unknown speaker's answer
    await page.close();
  });

  it('with API_TOKEN: the token box authorises the pages, and the players carry the token as access_token', async () => {
    const token = 'open-sesame-0123456789';
    const secured = await serveTestService({ API_TOKEN: token });
    try {
      const res = await secured.svc.request(`${BASE}/scan-libritts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ libritts_path: tree.root, analysis: 'header' }),
      });
      expect(res.status).toBe(202);
      const task = ((await res.json()) as { task_id: string }).task_id;
      await secured.svc.waitDone(task);

      const { page, problems } = await openPage(browser, `${secured.origin}/#/scan/${task}/speaker/${tree.rules}`);
      await expect.poll(() => page.textContent('#speaker-error')).toMatch(/token/i);
      expect(await page.getAttribute('#token-box', 'open')).not.toBeNull(); // the list's 401 opened the token box
      await page.fill('#token', token);
      await page.press('#token', 'Tab'); // `change`: the view is drawn again with the token
      await expect.poll(() => page.locator('#refs > li').count()).toBe(3);
      expect(await page.isHidden('#speaker-error')).toBe(true);
      const audio = await audioState(page, '#refs > li:nth-child(1) audio');
      expect(audio.error).toBeNull();
      expect(audio.readyState).toBeGreaterThanOrEqual(1);
      expect(new URL(audio.src).searchParams.get('access_token')).toBe(token);
      // The waveform's fetch sends the header instead.
      await page.$eval('#refs > li:nth-child(1) audio', (a) => (a as HTMLAudioElement).play());
      await page.waitForSelector('#refs > li:nth-child(1) canvas[data-drawn]');
      await page.$eval('#refs > li:nth-child(1) audio', (a) => (a as HTMLAudioElement).pause());
      expectNoProblems(problems, 401); // the answers before the token was typed
      await page.close();
    } finally {
      await secured.close();
    }
  });

  it('while a scan runs: the list keeps the keyboard focus, says why an action failed, and a watch refused for its token says so and starts again with one', async () => {
    const token = 'open-sesame-0123456789';
    const fifo = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vl-fifo-')), 'hang');
    execFileSync('mkfifo', [fifo]);
    // A scan that stays running: its thread blocks reading the FIFO at `hang.wav` until freed.
    const secured = await serveTestService({ API_TOKEN: token, SCAN_WORKERS: 1 }, { faults: { hangOn: { suffix: 'hang.wav', fifo } } });
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vl-running-'));
    onTestFinished(async () => {
      spawn('sh', ['-c', 'echo go > "$0"', fifo]); // frees the blocked thread
      await secured.close();
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(path.dirname(fifo), { recursive: true, force: true });
    });
    fs.mkdirSync(path.join(root, 'dev-clean', '7', '8'), { recursive: true });
    fs.writeFileSync(path.join(root, 'dev-clean', '7', '8', 'hang.wav'), toneWav());
    const res = await secured.svc.request(`${BASE}/scan-libritts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ libritts_path: root, analysis: 'header' }),
    });
    const task = ((await res.json()) as { task_id: string }).task_id;

    const { page } = await openPage(browser, `${secured.origin}/`, { token });
    const cancel = page.getByRole('button', { name: `Cancel the scan of ${root}` });
    await cancel.focus();
    // The list is made again every 3 s while a scan runs: the focus stays where it was.
    await page.waitForTimeout(3_500);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(`Cancel the scan of ${root}`);

    const typeToken = async (value: string) => {
      if ((await page.getAttribute('#token-box', 'open')) === null) await page.click('#token-box > summary');
      await page.fill('#token', value);
      await page.press('#token', 'Tab'); // `change`
    };
    // Without the token, the refresh and the cancel say why they failed, under the list.
    await typeToken('');
    await expect.poll(() => page.textContent('#tasks-error')).toMatch(/could not be refreshed: Missing or invalid bearer token/);
    await cancel.click();
    await expect.poll(() => page.textContent('#tasks-error')).toBe('Missing or invalid bearer token');

    // Watching the scan without a token: refused, said, the token box opened; with it, followed live.
    await page.goto(`${secured.origin}/#/scan/${task}`);
    await expect.poll(() => page.textContent('#task-error'), { timeout: 15_000 }).toBe('Missing or invalid bearer token');
    expect(await page.getAttribute('#token-box', 'open')).not.toBeNull();
    await typeToken(token);
    await page.waitForSelector('#live-status.running');
    expect(await page.isHidden('#task-error')).toBe(true);
    await expect.poll(() => page.textContent('#live-announce')).toMatch(/^Scan running/);
    await page.close();
  });

  it('player: an encoding browsers may not decode plays converted; a file gone since the scan says why', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vl-player-'));
    onTestFinished(() => fs.rmSync(root, { recursive: true, force: true }));
    const dir = path.join(root, 'dev-clean', '7', '8');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, '7_8_000001_000000.wav'), toneWav({ bitDepth: '24', durationS: 2 }));
    fs.writeFileSync(path.join(dir, '7_8_000002_000000.wav'), toneWav({ durationS: 2 }));
    const task = await svc.startScan({ libritts_path: root, analysis: 'header' });
    await svc.waitDone(task);
    fs.rmSync(path.join(dir, '7_8_000002_000000.wav'));

    const { page } = await openPage(browser, `${origin}/#/scan/${task}`);
    await expect.poll(() => shownPaths(page)).toEqual(['dev-clean/7/8/7_8_000001_000000.wav', 'dev-clean/7/8/7_8_000002_000000.wav']);
    await page.getByRole('button', { name: 'Play 7_8_000001_000000', exact: true }).click();
    const audio = await audioState(page, '#player-audio');
    expect(audio.error).toBeNull();
    expect(audio.src).toContain('as=pcm16'); // pcm_s24le
    expect(audio.duration).toBeCloseTo(2, 1);
    expect(await page.isHidden('#player-error')).toBe(true);

    // Leaving the view pauses its player, which would play on, hidden.
    await page.$eval('#player-audio', (a) => (a as HTMLAudioElement).play());
    await expect.poll(() => page.$eval('#player-audio', (a) => (a as HTMLAudioElement).paused)).toBe(false);
    await page.click('#results tbody tr:first-child td a[href*="/speaker/7"]');
    await expect.poll(() => page.isVisible('#speaker-view')).toBe(true);
    expect(await page.$eval('#player-audio', (a) => (a as HTMLAudioElement).paused)).toBe(true);
    await page.goBack();
    await expect.poll(() => shownPaths(page)).toHaveLength(2);

    // Neither way plays: the player shows the API's detail instead of going quiet.
    await page.getByRole('button', { name: 'Play 7_8_000002_000000', exact: true }).click();
    await expect.poll(() => page.textContent('#player-error'), { timeout: 10_000 }).toMatch(/No file .*7_8_000002_000000\.wav/);
    expect(await page.isVisible('#player-error')).toBe(true);
    // Another clip clears it.
    await page.getByRole('button', { name: 'Play 7_8_000001_000000', exact: true }).click();
    await expect.poll(() => page.isHidden('#player-error')).toBe(true);
    await page.close();
  });
});
