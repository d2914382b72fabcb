// One speaker's page: who it is, how much audio it has, and the clips to clone its voice from,
// each with a player and its transcript beside it.
import { apiJson, BASE } from './api.js';
import { $, fmt, h, showError, text } from './dom.js';
import { loadClip } from './player.js';
import { scanHref } from './url-state.js';

const list = $('#refs');
let seq = 0;
let cancels = [];

function fact(label, value) {
  const div = h('div');
  div.append(h('dt', '', label), h('dd', '', value));
  return div;
}

function clipItem(taskId, clip, i) {
  const li = h('li', clip.eligible ? 'clip' : 'clip ineligible');
  const name = clip.path.slice(clip.path.lastIndexOf('/') + 1).replace(/\.wav$/i, '');
  const head = h('div', 'clip-head');
  head.append(
    h('span', 'rank', `#${i + 1}`),
    h('code', 'path', clip.path),
    h('span', `badge ${clip.eligible ? 'eligible' : 'ineligible'}`, clip.eligible ? 'eligible' : 'not eligible'),
  );

  const audio = document.createElement('audio');
  audio.controls = true;
  audio.setAttribute('aria-label', `Reference clip ${i + 1}: ${name}`);
  const canvas = h('canvas', 'wave');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `Waveform of ${name}`);
  const failed = h('p', 'error');
  failed.setAttribute('role', 'alert');
  failed.hidden = true;
  cancels.push(
    loadClip(audio, {
      url: clip.audio_url ?? `${BASE}/scan-audio/${encodeURIComponent(taskId)}?path=${encodeURIComponent(clip.path)}`,
      durationS: clip.duration_s,
      canvas,
      onFail: (detail) => showError(failed, detail && { detail }),
    }),
  );
  const player = h('div', 'clip-player');
  player.append(audio, canvas, failed);
  const transcript = h('blockquote', 'transcript', clip.text_normalized ?? 'No transcript.');
  if (!clip.text_normalized) transcript.classList.add('muted');
  const main = h('div', 'clip-main');
  main.append(player, transcript);

  const stats = h('dl', 'clip-stats');
  stats.append(
    fact('Duration', `${fmt(clip.duration_s, 2)} s`),
    fact('SNR', `${fmt(clip.snr_db)} dB`),
    fact('Peak', `${fmt(clip.peak_dbfs)} dBFS`),
    fact('RMS', `${fmt(clip.rms_dbfs)} dBFS`),
    fact('Clipped samples', clip.clipped_samples ?? '–'),
    fact('Score', fmt(clip.score, 2)),
  );
  li.append(head, main, stats);
  if (!clip.eligible && clip.why) li.append(h('p', 'why', `Not eligible: ${clip.why}.`));
  return li;
}

/** Shows speaker `speakerId` of task `taskId`; `backHref` is the scan view to return to. */
export async function showSpeaker(taskId, speakerId, backHref) {
  const mine = ++seq;
  for (const cancel of cancels) cancel();
  cancels = [];
  // The old speaker's players stop with their elements.
  list.replaceChildren();
  $('#speaker-back').href = backHref;
  $('#speaker-clips').href = scanHref(taskId, new URLSearchParams({ speaker_id: speakerId }));
  text($('#speaker-id'), speakerId);
  document.title = `Speaker ${speakerId} · voice-library`;
  for (const el of document.querySelectorAll('#speaker-facts dd')) text(el, '…');
  $('#refs-note').hidden = true;
  showError($('#speaker-error'), null);
  let s;
  try {
    s = await apiJson(`/scan-speakers/${encodeURIComponent(taskId)}/${encodeURIComponent(speakerId)}`);
  } catch (err) {
    if (mine !== seq) return;
    showError($('#speaker-error'), err);
    for (const el of document.querySelectorAll('#speaker-facts dd')) text(el, '–');
    return;
  }
  if (mine !== seq) return;
  text($('#sp-name'), s.name ?? '–');
  text($('#sp-gender'), s.gender ?? '–');
  text($('#sp-subsets'), s.subsets.length ? s.subsets.join(', ') : '–');
  text($('#sp-utterances'), s.failed ? `${s.utterances} (+${s.failed} failed)` : String(s.utterances));
  text($('#sp-minutes'), fmt(s.duration_s / 60, 2));
  text($('#sp-snr'), s.median_snr_db === null ? '–' : `${fmt(s.median_snr_db)} dB`);
  const notes = [];
  if (s.quality === 'header') notes.push('This scan read file headers only: there are no signal statistics, so the clips are ranked by duration alone.');
  if (!s.reference_clips.length) notes.push('This speaker has no clip to pick from.');
  else if (!s.reference_clips.some((c) => c.eligible)) notes.push('No clip meets every rule for a reference clip; these are the closest, with what keeps each out.');
  text($('#refs-note'), notes.join(' '));
  $('#refs-note').hidden = notes.length === 0;
  list.replaceChildren(...s.reference_clips.map((c, i) => clipItem(taskId, c, i)));
}
