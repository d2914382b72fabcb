// The results of one scan: filters, sortable columns, pages through the API cursor, a play button
// per row and downloads. Its whole state is in the URL (url-state.js): every control navigates to
// a new address and showResults() draws what the address says, so a reload shows the same rows.
import { apiJson, audioUrl, saveDownload } from './api.js';
import { $, button, fmt, h, showError, td, text } from './dom.js';
import { sharedPlayer } from './player.js';
import { FILTERS, go, scanHref, speakerHref } from './url-state.js';

export const PAGE_SIZE = 50;

const form = $('#filters');
const body = $('#results tbody');
const state = { taskId: null, params: new URLSearchParams(), seq: 0 };

/** A row's play button shows whether its clip plays: aria-pressed for assistive technology, a glyph for the eye. */
function showPlaying(b, url, playing) {
  const on = b.dataset.url === url && playing;
  b.setAttribute('aria-pressed', String(on));
  b.textContent = on ? '❚❚' : '▶\uFE0E'; // VS15: the text glyph, not an emoji
  b.closest('tr')?.classList.toggle('playing', b.dataset.url === url);
}

const player = sharedPlayer(
  { box: $('#player'), audio: $('#player-audio'), title: $('#player-title'), transcript: $('#player-text'), canvas: $('#player-wave'), error: $('#player-error') },
  (url, playing) => {
    for (const b of body.querySelectorAll('button.play')) showPlaying(b, url, playing);
  },
);

/** The filters of an address, as the form can show them (so the inputs and the rows always agree). */
function filtersOf(params) {
  const out = new URLSearchParams();
  for (const key of FILTERS) {
    const v = params.get(key);
    if (v === null || v === '') continue;
    if (key === 'only' && v !== 'failed') continue; // the page has a failed-only box, nothing for only=ok
    out.set(key, v);
  }
  return out;
}

function fillForm(filters) {
  for (const key of FILTERS) {
    const input = form.elements.namedItem(key);
    if (input.type === 'checkbox') input.checked = filters.get(key) === input.value;
    else input.value = filters.get(key) ?? '';
  }
}

function readForm() {
  const out = new URLSearchParams();
  for (const key of FILTERS) {
    const input = form.elements.namedItem(key);
    const v = input.type === 'checkbox' ? (input.checked ? input.value : '') : input.value.trim();
    if (v) out.set(key, v);
  }
  return out;
}

const pageSize = (params) => params.get('limit') ?? String(PAGE_SIZE);

/** The address of these results with `changes` applied; a null value removes the key. */
function hrefWith(changes, base = state.params) {
  const params = new URLSearchParams(base);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) params.delete(k);
    else params.set(k, v);
  }
  return scanHref(state.taskId, params);
}

/** New filters start again at the first page, keeping the sort and page size. */
function applyFilters(filters) {
  const params = new URLSearchParams(filters);
  for (const key of ['sort', 'limit']) if (state.params.has(key)) params.set(key, state.params.get(key));
  go(scanHref(state.taskId, params));
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  applyFilters(readForm());
});
// Boxes and menus apply at once; text fields on Enter or the Apply button, not at every key.
form.addEventListener('change', (e) => {
  if (e.target.type === 'checkbox' || e.target.tagName === 'SELECT') applyFilters(readForm());
});
$('#clear-filters').addEventListener('click', () => applyFilters(new URLSearchParams()));

// Sorting: a first click sorts ascending, the next one descending.
for (const b of document.querySelectorAll('#results th button.sort')) {
  b.addEventListener('click', () => {
    const key = b.closest('th').dataset.sort;
    const current = state.params.get('sort') ?? 'path';
    const next = current === key ? `-${key}` : key;
    go(hrefWith({ sort: next === 'path' ? null : next, cursor: null, page: null }));
  });
}

function showSort(sort) {
  const s = sort ?? 'path';
  for (const th of document.querySelectorAll('#results th[data-sort]')) {
    const key = th.dataset.sort;
    if (s === key) th.setAttribute('aria-sort', 'ascending');
    else if (s === `-${key}`) th.setAttribute('aria-sort', 'descending');
    else th.removeAttribute('aria-sort');
  }
}

$('#next-page').addEventListener('click', (e) => {
  const page = Number(state.params.get('page') ?? 1) + 1;
  go(hrefWith({ cursor: e.currentTarget.dataset.cursor, page: String(page) }));
});
$('#first-page').addEventListener('click', () => go(hrefWith({ cursor: null, page: null })));
$('#page-size').addEventListener('change', (e) => go(hrefWith({ limit: e.target.value === String(PAGE_SIZE) ? null : e.target.value, cursor: null, page: null })));

/** The transcript with the searched words marked, built with text nodes (transcripts are data). */
function transcriptCell(value, words) {
  const cell = td('', 'text');
  if (!value) return cell;
  if (!words.size) {
    cell.textContent = value;
    return cell;
  }
  for (const part of value.split(/([\p{L}\p{N}']+)/u)) {
    cell.append(part && words.has(part.toLowerCase()) ? h('mark', '', part) : part);
  }
  return cell;
}

function row(r, words) {
  const tr = document.createElement('tr');
  const play = td('', 'act');
  tr.append(play);
  if (!r.error) {
    const label = r.utterance_id ?? r.path;
    const url = audioUrl(state.taskId, r.path);
    const b = button(
      '',
      'small secondary play',
      () => player.toggle({ url, label, transcript: r.text_normalized ?? r.text_original, encoding: r.encoding, durationS: r.duration_s }),
      `Play ${label}`,
    );
    b.dataset.url = url;
    play.append(b);
    showPlaying(b, player.current, player.playing);
  }
  const speaker = td('');
  if (r.speaker_id) speaker.append(Object.assign(h('a', '', r.speaker_id), { href: speakerHref(state.taskId, r.speaker_id) }));
  else speaker.textContent = '–';
  const err = td('');
  if (r.error) err.append(h('span', 'code', r.error.code), ` ${r.error.detail}`);
  tr.append(
    td(r.path, 'path'),
    speaker,
    td(fmt(r.duration_s, 2), 'num'),
    td(r.sample_rate ?? '–', 'num'),
    td(r.channels ?? '–', 'num'),
    td(r.bits_per_sample ?? '–', 'num'),
    td(fmt(r.peak_dbfs), 'num'),
    td(fmt(r.rms_dbfs), 'num'),
    td(fmt(r.snr_db), 'num snr'),
    transcriptCell(r.text_normalized, words),
    err,
  );
  return tr;
}

/** Fills the speaker and subset suggestions of the filter fields. */
export function setSuggestions({ speakers = [], subsets = [] }) {
  const options = (values) => values.map((v) => Object.assign(document.createElement('option'), { value: v }));
  $('#speaker-ids').replaceChildren(...options(speakers));
  $('#subset-names').replaceChildren(...options(subsets));
}

/** Shows the results of `taskId` as `params` (an address's query) says. */
export async function showResults(taskId, params) {
  if (taskId !== state.taskId) {
    if (state.taskId) player.stop();
    body.replaceChildren();
  }
  state.taskId = taskId;
  const filters = filtersOf(params);
  state.params = params;
  fillForm(filters);
  showSort(params.get('sort'));
  const limit = pageSize(params);
  const page = Math.max(1, Number(params.get('page')) || 1);
  const select = $('#page-size');
  if (![...select.options].some((o) => o.value === limit)) select.append(Object.assign(document.createElement('option'), { value: limit, textContent: limit }));
  select.value = limit;
  $('#results-section').hidden = false;

  const query = new URLSearchParams(filters);
  if (params.has('sort')) query.set('sort', params.get('sort'));
  query.set('limit', limit);
  if (params.has('cursor')) query.set('cursor', params.get('cursor'));
  const seq = ++state.seq;
  let result;
  try {
    result = await apiJson(`/scan-results/${encodeURIComponent(taskId)}?${query}`);
  } catch (err) {
    if (seq !== state.seq) return;
    // A filter the API refuses: its detail says which and why; no rows rather than stale ones.
    showError($('#results-error'), err);
    body.replaceChildren();
    text($('#results-count'), err.code === 'VALIDATION_FAILED' ? 'No results: the filters are not valid.' : 'No results could be loaded.');
    text($('#page-label'), '');
    $('#next-page').disabled = true;
    $('#first-page').disabled = !params.has('cursor');
    return;
  }
  if (seq !== state.seq) return; // a newer address was shown meanwhile
  showError($('#results-error'), null);
  const { items, next_cursor, total } = result;
  const words = new Set(
    (filters.get('q') ?? '')
      .toLowerCase()
      .split(/[^\p{L}\p{N}']+/u)
      .filter(Boolean),
  );
  body.replaceChildren(...items.map((r) => row(r, words)));
  const from = (page - 1) * Number(limit) + 1;
  text(
    $('#results-count'),
    total === 0 ? 'No matching files.' : `${total} matching ${total === 1 ? 'file' : 'files'}${items.length ? ` · showing ${from}–${from + items.length - 1}` : ''}`,
  );
  text($('#page-label'), `Page ${page}${items.length === 0 ? ' (empty)' : ''}`);
  const next = $('#next-page');
  next.disabled = !next_cursor;
  next.dataset.cursor = next_cursor ?? '';
  $('#first-page').disabled = !params.has('cursor');
}

/** Forgets the shown task (its scan was deleted or another one is shown). */
export function resetResults() {
  state.taskId = null;
  state.seq++;
  player.stop();
  body.replaceChildren();
  $('#results-section').hidden = true;
  text($('#export-status'), '');
  showError($('#export-error'), null);
}

/** The filters and sort of the shown address, as downloads send them: every matching row, so no page, limit or cursor. */
function downloadQuery() {
  const query = filtersOf(state.params);
  if (state.params.has('sort')) query.set('sort', state.params.get('sort'));
  return query;
}

/** Downloads every row that matches the shown filters, in the shown order. */
async function download(format) {
  const query = downloadQuery();
  query.set('format', format);
  try {
    await saveDownload(`/scan-results/${encodeURIComponent(state.taskId)}?${query}`, `scan-${state.taskId}.${format}`);
  } catch (err) {
    showError($('#results-error'), err);
  }
}
$('#download-jsonl').addEventListener('click', () => download('jsonl'));
$('#download-csv').addEventListener('click', () => download('csv'));

// Training manifests (scan-export): the same filters and sort as the table; failed rows are never exported.
const exportForm = $('#export-form');
exportForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const query = downloadQuery();
  query.delete('only');
  const format = exportForm.elements.namedItem('format').value;
  query.set('format', format);
  query.set('text', exportForm.elements.namedItem('text').value);
  const prefix = exportForm.elements.namedItem('path_prefix').value.trim();
  if (prefix) query.set('path_prefix', prefix); // the API says when it is not absolute
  const submit = $('#export-download');
  const status = $('#export-status');
  submit.disabled = true;
  showError($('#export-error'), null);
  text(status, 'Preparing the manifest…');
  try {
    const name = await saveDownload(`/scan-export/${encodeURIComponent(state.taskId)}?${query}`, `${state.taskId}-${format}`);
    text(status, `Download started: ${name}.`);
  } catch (err) {
    text(status, '');
    showError($('#export-error'), err);
  } finally {
    submit.disabled = false;
  }
});
