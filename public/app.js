// The dashboard: start a scan, follow it live, browse tasks, results and speakers, and a page per
// speaker. Which view shows is the URL's business (url-state.js); this module wires the views.
import { api, apiJson, getToken, setToken } from './api.js';
import { $, badge, duration, fmt, h, showError, td, text } from './dom.js';
import { resetResults, showResults } from './results.js';
import { showSpeaker } from './speaker.js';
import { loadSpeakers } from './speakers.js';
import { go, onRoute, reroute, scanHref } from './url-state.js';
import { watchTask } from './watch.js';

const ACTIVE = new Set(['queued', 'running']);
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

// `params`: the results part of the last scan address, read when the watched task ends.
const state = { taskId: null, stopWatch: null, snapshot: null, ended: false, view: null, params: new URLSearchParams(), lastScanHref: null };

// --- token ---
const tokenInput = $('#token');
tokenInput.value = getToken();
tokenInput.addEventListener('change', () => {
  setToken(tokenInput.value.trim());
  refreshTasks();
  // Audio URLs carry the token, and a watch refused without it must start again: draw the view anew.
  if (state.taskId && !state.ended) state.taskId = null;
  reroute();
});

// --- new scan ---
$('#scan-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const button = $('#start');
  button.disabled = true;
  showError($('#form-error'), null);
  const subsets = $('#subsets')
    .value.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // reuse `auto`: files unchanged since the latest scan of this folder are copied, not read again.
  const body = { libritts_path: $('#path').value.trim(), analysis: $('#analysis').value, reuse: $('#reuse').checked ? 'auto' : 'none' };
  if (subsets.length) body.subsets = subsets;
  try {
    const accepted = await apiJson('/scan-libritts', { method: 'POST', body });
    go(scanHref(accepted.task_id));
    refreshTasks();
  } catch (err) {
    showError($('#form-error'), err);
  } finally {
    button.disabled = false;
  }
});

// --- live view of one task ---
/** Files whose results were copied from an earlier scan (0 in snapshots of servers before v2). */
const reusedOf = (s) => s.files_reused ?? s.summary?.files_reused ?? 0;

function render(s) {
  state.snapshot = s;
  $('#live-status').replaceWith(Object.assign(badge(s.status), { id: 'live-status' }));
  text($('#live-phase'), s.phase ? `phase: ${s.phase}` : '');
  const progress = $('#progress');
  progress.value = s.progress;
  progress.textContent = `${s.progress}%`;
  text($('#progress-text'), `${s.progress}%`);
  text($('#files'), s.files_total === null ? `${s.files_done} / …` : `${s.files_done} / ${s.files_total}`);
  text($('#failed'), String(s.files_failed));
  text($('#reused'), String(reusedOf(s)));
  text($('#rate'), s.files_per_s === null ? '–' : fmt(s.files_per_s));
  text($('#eta'), s.eta_s === null ? '–' : duration(s.eta_s));
  text($('#message'), s.message);
  // Screen readers hear the status and phase when they change, not every progress message
  // (up to ~10 a second while a scan runs).
  const said = `Scan ${s.status}${s.phase && !TERMINAL.has(s.status) ? `, ${s.phase}` : ''}.`;
  if ($('#live-announce').textContent !== said) text($('#live-announce'), said);
  showError($('#task-error'), s.error ? { detail: `${s.error.code}: ${s.error.detail}` } : null);
  $('#cancel').hidden = !ACTIVE.has(s.status);
  text($('#results-total'), `${s.files_done} files · ${s.files_failed} failed`);
  updateTaskRow(s);
}

function markSelected() {
  for (const row of document.querySelectorAll('#tasks tbody tr')) {
    const on = row.dataset.id === state.taskId;
    row.classList.toggle('selected', on);
    if (on) row.setAttribute('aria-current', 'true');
    else row.removeAttribute('aria-current');
  }
}

function showTask(taskId) {
  state.stopWatch?.();
  state.taskId = taskId;
  state.snapshot = null;
  state.ended = false;
  $('#live').hidden = false;
  text($('#live-id'), taskId);
  // Nothing of the previously shown task until this one's first snapshot arrives.
  $('#live-status').replaceWith(Object.assign(h('span', 'badge', ''), { id: 'live-status' }));
  for (const id of ['files', 'failed', 'reused', 'rate', 'eta']) text($(`#${id}`), '–');
  for (const id of ['live-phase', 'message', 'live-announce', 'progress-text', 'results-total']) text($(`#${id}`), '');
  $('#progress').value = 0;
  showError($('#task-error'), null);
  resetResults();
  $('#speakers-section').hidden = true;
  markSelected();
  state.stopWatch = watchTask(taskId, {
    onSnapshot: render,
    onMode: (mode, why) => text($('#live-mode'), mode === 'live' ? 'Live updates (EventSource)' : `Polling every second (${why})`),
    // 401/403: say why and where the token goes; a new token starts the watch again (above).
    onDenied: (err) => {
      if (state.taskId !== taskId) return;
      text($('#live-mode'), 'Not following: the server refused');
      showError($('#task-error'), err);
      if (err.status === 401) tokenInput.closest('details').open = true;
    },
    onEnd: (s) => {
      state.ended = true;
      refreshTasks();
      if (!s) {
        showError($('#task-error'), { detail: `There is no scan ${taskId}: it was deleted, or the address is wrong.` });
        return;
      }
      render(s);
      showResults(taskId, state.params);
      // A failed request says so where the task's errors go, instead of leaving the speakers unshown with nothing said.
      if (s.status === 'completed') loadSpeakers(s, () => state.taskId === taskId).catch((err) => state.taskId === taskId && showError($('#task-error'), err));
    },
  });
}

/** Back to the scan list: nothing selected. */
function closeTask() {
  state.stopWatch?.();
  state.stopWatch = null;
  state.taskId = null;
  $('#live').hidden = true;
  resetResults();
  $('#speakers-section').hidden = true;
  markSelected();
}

$('#cancel').addEventListener('click', async () => {
  try {
    await api(`/scan-cancel/${encodeURIComponent(state.taskId)}`, { method: 'POST' });
  } catch (err) {
    showError($('#task-error'), err);
  }
});

// --- task list ---
function updateTaskRow(s) {
  const row = document.querySelector(`#tasks tr[data-id="${CSS.escape(s.task_id)}"]`);
  if (!row) return;
  row.querySelector('.status').replaceChildren(badge(s.status));
  text(row.querySelector('.progress'), `${s.progress}%`);
  text(row.querySelector('.reused'), String(reusedOf(s)));
}

/** Which control of the task list has the keyboard focus: its row's task and its kind, to give it back once the rows are made again. */
function focusedTaskControl() {
  const el = document.activeElement;
  const row = el?.closest?.('#tasks tbody tr');
  return row ? { id: row.dataset.id, kind: el.dataset.kind } : null;
}

/** Runs a task list action, then refreshes the list; the action's error shows under the list (before a refresh's own). */
async function listAction(run) {
  showError($('#tasks-error'), null);
  let failed = null;
  try {
    await run();
  } catch (err) {
    failed = err;
  }
  await refreshTasks();
  if (failed) showError($('#tasks-error'), failed);
}

async function refreshTasks() {
  let items;
  try {
    ({ items } = await apiJson('/scans?limit=50'));
  } catch (err) {
    if (err.status === 401) tokenInput.closest('details').open = true;
    // The list shown is now stale: say so rather than leave it looking current.
    showError($('#tasks-error'), { detail: `The list of scans could not be refreshed: ${err.detail ?? err.message}` });
    return;
  }
  if ($('#tasks-error').textContent.startsWith('The list of scans could not')) showError($('#tasks-error'), null);
  const focused = focusedTaskControl();
  const body = $('#tasks tbody');
  body.replaceChildren(
    ...items.map((t) => {
      const row = document.createElement('tr');
      row.dataset.id = t.task_id;
      const status = td('', 'status');
      status.append(badge(t.status));
      const actions = td('', 'actions');
      // A link, not a button: it changes the address, and can open in another tab.
      const view = Object.assign(h('a', 'button small secondary', 'View'), { href: scanHref(t.task_id) });
      view.setAttribute('aria-label', `View the scan of ${t.libritts_path}`);
      view.dataset.kind = 'view';
      actions.append(view, ' ');
      // One kind for Cancel and Delete: the focus stays on the row's action when its scan ends.
      if (ACTIVE.has(t.status)) {
        const cancel = Object.assign(h('button', 'small danger', 'Cancel'), { type: 'button' });
        cancel.setAttribute('aria-label', `Cancel the scan of ${t.libritts_path}`);
        cancel.dataset.kind = 'action';
        cancel.addEventListener('click', () => listAction(() => api(`/scan-cancel/${encodeURIComponent(t.task_id)}`, { method: 'POST' })));
        actions.append(cancel);
      } else {
        const del = Object.assign(h('button', 'small danger', 'Delete'), { type: 'button' });
        del.setAttribute('aria-label', `Delete the scan of ${t.libritts_path}`);
        del.dataset.kind = 'action';
        del.addEventListener('click', () => {
          if (!confirm(`Delete the scan of ${t.libritts_path} and all its results?`)) return;
          return listAction(async () => {
            await api(`/scans/${encodeURIComponent(t.task_id)}`, { method: 'DELETE' });
            // Only once it is gone: a refused delete leaves the view as it is, with the reason.
            if (state.taskId === t.task_id) go('#/');
          });
        });
        actions.append(del);
      }
      row.append(
        td(new Date(t.created_at).toLocaleString()),
        td(t.libritts_path, 'path'),
        td(t.analysis),
        status,
        td(`${t.progress}%`, 'num progress'),
        td(String(reusedOf(t)), 'num reused'),
        actions,
      );
      return row;
    }),
  );
  markSelected();
  // The rows are new elements: give the focus back to the same control of the same scan (the
  // list is made again every 3 s while a scan runs, and the focus fell back to the page).
  if (focused) body.querySelector(`tr[data-id="${CSS.escape(focused.id)}"] [data-kind="${focused.kind}"]`)?.focus();
  $('#tasks-empty').hidden = items.length > 0;
  return items;
}
$('#refresh').addEventListener('click', refreshTasks);

// --- views ---
function route(r) {
  const previous = state.view;
  state.view = r.view;
  $('#scan-view').hidden = r.view === 'speaker';
  $('#speaker-view').hidden = r.view !== 'speaker';
  // A view left behind goes quiet: its players are hidden, and nothing could pause them.
  for (const audio of document.querySelectorAll('audio')) if (audio.closest('[hidden]') && !audio.paused) audio.pause();
  if (r.view === 'speaker') {
    // Back goes to the results as they were left (filters, page), when they were of this scan.
    const back = state.lastScanHref && state.taskId === r.taskId ? state.lastScanHref : scanHref(r.taskId);
    showSpeaker(r.taskId, r.speakerId, back);
    // Moved here by a link: keyboard and screen-reader users start at the new page's heading.
    if (previous !== null) $('#speaker-h').focus();
    return;
  }
  if (r.view === 'home') {
    document.title = 'voice-library';
    closeTask();
    return;
  }
  state.lastScanHref = location.hash;
  state.params = r.params;
  document.title = `Scan ${r.taskId.slice(0, 8)} · voice-library`;
  if (r.taskId !== state.taskId) showTask(r.taskId);
  else if (state.ended) showResults(r.taskId, r.params); // else the watch shows them when the task ends
  if (previous === 'speaker') $('#live-h').focus();
}

// Keep the list fresh while anything runs.
setInterval(async () => {
  if (document.hidden) return;
  const rows = [...document.querySelectorAll('#tasks .badge')].map((b) => b.textContent);
  if (rows.some((s) => ACTIVE.has(s))) refreshTasks();
}, 3000);
refreshTasks();
onRoute(route);
