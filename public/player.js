// Audio players: a clip's <audio> with its waveform, and the one shared player of the results
// table (one <audio> for every row: a page of 50 players would each fetch metadata).
import { mediaUrl } from './api.js';
import { text } from './dom.js';
import { drawWaveform } from './waveform.js';

// One clip at a time across the page: starting one pauses the others ('play' does not bubble,
// hence the capture).
document.addEventListener(
  'play',
  (e) => {
    for (const other of document.querySelectorAll('audio')) if (other !== e.target && !other.paused) other.pause();
  },
  true,
);

/**
 * Points `audio` at a clip: the 16-bit PCM conversion first; if that fails (a file the server
 * cannot convert), the file's own bytes, which the browser may still play. The waveform is drawn
 * into `canvas` when the clip first plays, so a page of clips fetches only their metadata.
 */
export function loadClip(audio, { url, durationS = null, canvas = null }) {
  const controller = new AbortController();
  audio.preload = 'metadata';
  audio.src = mediaUrl(url);
  // Whether play was asked for: the fallback then plays on, without a second click.
  let wanted = false;
  audio.onerror = () => {
    if (!audio.src.includes('as=pcm16')) return;
    audio.src = mediaUrl(url, { pcm16: false });
    if (wanted) audio.play().catch(() => {});
  };
  let drawn = false;
  audio.onplay = () => {
    wanted = true;
    if (drawn || !canvas) return;
    drawn = true;
    drawWaveform(canvas, mediaUrl(url, { withToken: false }), { durationS, signal: controller.signal });
  };
  if (canvas) canvas.hidden = true;
  return () => controller.abort();
}

/**
 * The results' player. `els`: { box, audio, title, transcript, canvas }; `onChange(url, playing)`
 * lets the table label its buttons Play or Pause.
 */
export function sharedPlayer(els, onChange = () => {}) {
  let current = null;
  let cancel = () => {};
  const changed = () => onChange(current, !!current && !els.audio.paused);
  els.audio.addEventListener('play', changed);
  els.audio.addEventListener('pause', changed);
  els.audio.addEventListener('ended', changed);

  return {
    get current() {
      return current;
    },
    get playing() {
      return !!current && !els.audio.paused;
    },
    /** Stops and hides the player (another scan is shown). */
    stop() {
      cancel();
      current = null;
      els.audio.pause();
      els.audio.removeAttribute('src');
      els.audio.load(); // drops the old clip's buffered data
      els.box.hidden = true;
    },
    /** Plays `clip` ({ url, label, transcript, durationS }), or pauses / resumes it if it is the current one. */
    toggle(clip) {
      if (clip.url === current) {
        if (els.audio.paused) els.audio.play().catch(() => {});
        else els.audio.pause();
        return;
      }
      cancel();
      current = clip.url;
      els.box.hidden = false;
      text(els.title, clip.label);
      text(els.transcript, clip.transcript ?? '');
      els.audio.setAttribute('aria-label', `Audio of ${clip.label}`);
      cancel = loadClip(els.audio, { url: clip.url, durationS: clip.durationS, canvas: els.canvas });
      els.canvas.setAttribute('aria-label', `Waveform of ${clip.label}`);
      // A click is a user gesture, so play() is allowed; a refusal leaves the controls to the user.
      els.audio.play().catch(() => {});
      changed();
    },
  };
}
