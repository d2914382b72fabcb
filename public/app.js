// The dashboard: start a scan, follow it live, browse tasks, results and speakers.
import { api, apiJson, authHeaders, BASE, getToken, setToken } from './api.js';
import { barChart } from './charts.js';
import { watchTask } from './watch.js';

const $ = (sel) => document.querySelector(sel);
const ACTIVE = new Set(['queued', 'running']);
const PAGE_SIZE = 50;

const state = { taskId: null, stopWatch: null, snapshot: null, cursor: null, nextCursor: null, page: 1 };

function text(el, value) {
  el.textContent = value;
  return el;
}
function td(value, cls) {
  const cell = document.createElement('td');
  if (cls) cell.className = cls;
  cell.textContent = value ?? '';
  return cell;
}
const fmt = (n, digits = 1) => (n === null || n === undefined ? '–' : Number(n).toFixed(digits));
function duration(s) {
  if (s === null || s === undefined) return '–';
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}
function showError(el, err) {
  if (!err) {
    el.hidden = true;
    return;
  }
  const issues = err.issues?.length ? ` (${err.issues.map((i) => `${i.path}: ${i.message}`).join('; ')})` : '';
  text(el, `${err.detail ?? err.message}${issues}`);
  el.hidden = false;
}
function badge(status) {
  const b = document.createElement('span');
  b.className = `badge ${status}`;
  b.textContent = status;
  return b;
}

// --- token ---
const tokenInput = $('#token');
tokenInput.value = getToken();
tokenInput.addEventListener('change', () => {
  setToken(tokenInput.value.trim());
  refreshTasks();
});

// --- new scan ---
$('#scan-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const button = $('#start');
  button.disabled = true;
  showError($('#form-error'), null);
  const subsets = $('#subsets').value.split(',').map((s) => s.trim()).filter(Boolean);
  const body = { libritts_path: $('#path').value.trim(), analysis: $('#analysis').value };
  if (subsets.length) body.subsets = subsets;
  try {
    const accepted = await apiJson('/scan-libritts', { method: 'POST', body });
    showTask(accepted.task_id);
    refreshTasks();
  } catch (err) {
    showError($('#form-error'), err);
  } finally {
    button.disabled = false;
  }
});

// --- live view of one task ---
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
  text($('#rate'), s.files_per_s === null ? '–' : fmt(s.files_per_s));
  text($('#eta'), s.eta_s === null ? '–' : duration(s.eta_s));
  text($('#message'), s.message);
  showError($('#task-error'), s.error ? { detail: `${s.error.code}: ${s.error.detail}` } : null);
  $('#cancel').hidden = !ACTIVE.has(s.status);
  updateTaskRow(s);
}

function showTask(taskId) {
  state.stopWatch?.();
  state.taskId = taskId;
  $('#live').hidden = false;
  text($('#live-id'), taskId);
  $('#results-section').hidden = true;
  $('#speakers-section').hidden = true;
  document.querySelectorAll('#tasks tr.selected').forEach((r) => r.classList.remove('selected'));
  document.querySelector(`#tasks tr[data-id="${taskId}"]`)?.classList.add('selected');
  state.stopWatch = watchTask(taskId, {
    onSnapshot: render,
    onMode: (mode, why) => text($('#live-mode'), mode === 'live' ? 'Live updates (EventSource)' : `Polling every second (${why})`),
    onEnd: (s) => {
      if (s) render(s);
      refreshTasks();
      loadResults(null);
      if (s?.status === 'completed') loadSpeakers(s);
    },
  });
}

$('#cancel').addEventListener('click', async () => {
  try {
    await api(`/scan-cancel/${state.taskId}`, { method: 'POST' });
  } catch (err) {
    showError($('#task-error'), err);
  }
});

// --- task list ---
function updateTaskRow(s) {
  const row = document.querySelector(`#tasks tr[data-id="${s.task_id}"]`);
  if (!row) return;
  row.querySelector('.status').replaceChildren(badge(s.status));
  text(row.querySelector('.progress'), `${s.progress}%`);
}

async function refreshTasks() {
  let items;
  try {
    ({ items } = await apiJson('/scans?limit=50'));
  } catch (err) {
    if (err.status === 401) tokenInput.closest('details').open = true;
    return;
  }
  const body = $('#tasks tbody');
  body.replaceChildren(
    ...items.map((t) => {
      const row = document.createElement('tr');
      row.dataset.id = t.task_id;
      if (t.task_id === state.taskId) row.classList.add('selected');
      const status = td('', 'status');
      status.append(badge(t.status));
      const actions = document.createElement('td');
      const view = Object.assign(document.createElement('button'), { type: 'button', className: 'small secondary', textContent: 'View' });
      view.addEventListener('click', () => showTask(t.task_id));
      actions.append(view, ' ');
      if (ACTIVE.has(t.status)) {
        const cancel = Object.assign(document.createElement('button'), { type: 'button', className: 'small danger', textContent: 'Cancel' });
        cancel.addEventListener('click', () => api(`/scan-cancel/${t.task_id}`, { method: 'POST' }).then(refreshTasks, refreshTasks));
        actions.append(cancel);
      } else {
        const del = Object.assign(document.createElement('button'), { type: 'button', className: 'small danger', textContent: 'Delete' });
        del.addEventListener('click', async () => {
          if (!confirm(`Delete the scan of ${t.libritts_path} and all its results?`)) return;
          await api(`/scans/${t.task_id}`, { method: 'DELETE' }).catch(() => {});
          if (state.taskId === t.task_id) {
            state.stopWatch?.();
            $('#live').hidden = $('#results-section').hidden = $('#speakers-section').hidden = true;
          }
          refreshTasks();
        });
        actions.append(del);
      }
      row.append(td(new Date(t.created_at).toLocaleString()), td(t.libritts_path, 'path'), td(t.analysis), status, td(`${t.progress}%`, 'num progress'), actions);
      return row;
    }),
  );
  $('#tasks-empty').hidden = items.length > 0;
  return items;
}
$('#refresh').addEventListener('click', refreshTasks);

// --- results ---
async function loadResults(cursor) {
  const id = state.taskId;
  const only = $('#only-failed').checked ? '&only=failed' : '';
  const { items, next_cursor } = await apiJson(`/scan-results/${id}?limit=${PAGE_SIZE}${only}${cursor ? `&cursor=${cursor}` : ''}`);
  if (id !== state.taskId) return;
  state.cursor = cursor;
  state.nextCursor = next_cursor;
  const s = state.snapshot;
  $('#results-section').hidden = false;
  text($('#results-total'), s ? `${s.files_done} files · ${s.files_failed} failed` : '');
  $('#results tbody').replaceChildren(
    ...items.map((r) => {
      const row = document.createElement('tr');
      const err = td('');
      if (r.error) {
        const code = Object.assign(document.createElement('span'), { className: 'code', textContent: r.error.code });
        err.append(code, ` ${r.error.detail}`);
      }
      row.append(
        td(r.path, 'path'),
        td(r.speaker_id ?? '–'),
        td(fmt(r.duration_s, 2), 'num'),
        td(r.sample_rate ?? '–', 'num'),
        td(r.channels ?? '–', 'num'),
        td(r.bits_per_sample ?? '–', 'num'),
        td(fmt(r.peak_dbfs), 'num'),
        td(fmt(r.rms_dbfs), 'num'),
        td(r.text_normalized ?? ''),
        err,
      );
      return row;
    }),
  );
  text($('#page-label'), `Page ${state.page}${items.length === 0 ? ' (empty)' : ''}`);
  $('#next-page').disabled = !next_cursor;
  $('#first-page').disabled = !cursor;
}
$('#next-page').addEventListener('click', () => {
  state.page++;
  loadResults(state.nextCursor);
});
$('#first-page').addEventListener('click', () => {
  state.page = 1;
  loadResults(null);
});
$('#only-failed').addEventListener('change', () => {
  state.page = 1;
  loadResults(null);
});

async function download(format) {
  const only = $('#only-failed').checked ? '&only=failed' : '';
  const res = await fetch(`${BASE}/scan-results/${state.taskId}?format=${format}${only}`, { headers: authHeaders() });
  if (!res.ok) return;
  const url = URL.createObjectURL(await res.blob());
  const a = Object.assign(document.createElement('a'), { href: url, download: `scan-${state.taskId}.${format}` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
$('#download-jsonl').addEventListener('click', () => download('jsonl'));
$('#download-csv').addEventListener('click', () => download('csv'));

// --- speakers ---
async function loadSpeakers(snapshot) {
  const { items } = await apiJson(`/scan-speakers/${snapshot.task_id}`);
  if (snapshot.task_id !== state.taskId) return;
  $('#speakers-section').hidden = false;
  $('#speakers tbody').replaceChildren(
    ...items.map((s) => {
      const row = document.createElement('tr');
      row.append(td(s.speaker_id), td(s.name ?? '–'), td(s.gender ?? '–'), td(s.utterances, 'num'), td(fmt(s.duration_s / 60, 2), 'num'));
      return row;
    }),
  );
  const hist = snapshot.summary?.duration_histogram ?? { bin_s: 1, counts: [] };
  barChart(
    $('#duration-chart'),
    hist.counts.map((n, i) => ({ label: `${i * hist.bin_s}s`, value: n, title: `${i * hist.bin_s}–${(i + 1) * hist.bin_s} s: ${n} clips` })),
    { labelEvery: Math.max(1, Math.ceil(hist.counts.length / 20)), yLabel: 'clips', ariaLabel: 'Histogram of clip durations' },
  );
  const top = [...items].sort((a, b) => b.duration_s - a.duration_s).slice(0, 40);
  barChart(
    $('#minutes-chart'),
    top.map((s) => ({ label: s.speaker_id, value: s.duration_s / 60, title: `${s.speaker_id}${s.name ? ` (${s.name})` : ''}: ${(s.duration_s / 60).toFixed(1)} min` })),
    { labelEvery: Math.max(1, Math.ceil(top.length / 20)), yLabel: 'minutes', ariaLabel: 'Minutes of audio per speaker' },
  );
}

// Keep the list fresh while anything runs.
setInterval(async () => {
  if (document.hidden) return;
  const rows = [...document.querySelectorAll('#tasks .badge')].map((b) => b.textContent);
  if (rows.some((s) => ACTIVE.has(s))) refreshTasks();
}, 3000);
refreshTasks();
