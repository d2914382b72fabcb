// Audio players: a clip's <audio> with its waveform, and the one shared player of the results
// table (one <audio> for every row: a page of 50 players would each fetch metadata).
import { api, BASE, mediaUrl } from './api.js';
import { showError, text } from './dom.js';
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
 * Encodings every browser decodes from a WAV itself. Such a file is played as it is, which a
 * browser can seek in (byte ranges); the 16-bit conversion (`as=pcm16`) streams whole, without
 * ranges, so a click on its timeline starts the clip again.
 */
const PLAYABLE = new Set(['pcm_s16le', 'pcm_u8']);

/** Why a clip that neither way played cannot be played: the API's detail, or the browser's refusal. */
async function failureOf(url) {
  try {
    // One byte: the answer's status and error body, not the file.
    await api(mediaUrl(url, { pcm16: false, withToken: false }).slice(BASE.length), { headers: { Range: 'bytes=0-0' } });
    return 'This browser cannot play this file, as it is or converted to 16-bit PCM.';
  } catch (err) {
    return err.detail ?? err.message;
  }
}

/**
 * Points `audio` at a clip: the file's own bytes when its `encoding` is one every browser plays
 * (or is not known), else the server's 16-bit PCM conversion; if that one fails, the other. When
 * both fail, `onFail(detail)` says why. The waveform is drawn into `canvas` when the clip first
 * plays, so a page of clips fetches only their metadata.
 */
export function loadClip(audio, { url, encoding = null, durationS = null, canvas = null, onFail = () => {} }) {
  const controller = new AbortController();
  const ways = encoding === null || PLAYABLE.has(encoding) ? [false, true] : [true, false];
  let way = 0;
  audio.preload = 'metadata';
  audio.src = mediaUrl(url, { pcm16: ways[0] });
  onFail(null);
  // Whether play was asked for: the fallback then plays on, without a second click.
  let wanted = false;
  audio.onerror = () => {
    if (controller.signal.aborted) return;
    if (++way < ways.length) {
      audio.src = mediaUrl(url, { pcm16: ways[way] });
      if (wanted) audio.play().catch(() => {});
      return;
    }
    void failureOf(url).then((detail) => controller.signal.aborted || onFail(detail));
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
 * The results' player. `els`: { box, audio, title, transcript, canvas, error }; `onChange(url, playing)`
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
      showError(els.error, null);
    },
    /** Plays `clip` ({ url, label, transcript, encoding, durationS }), or pauses / resumes it if it is the current one. */
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
      cancel = loadClip(els.audio, {
        url: clip.url,
        encoding: clip.encoding ?? null,
        durationS: clip.durationS,
        canvas: els.canvas,
        onFail: (detail) => {
          showError(els.error, detail && { detail });
          if (detail) changed();
        },
      });
      els.canvas.setAttribute('aria-label', `Waveform of ${clip.label}`);
      // A click is a user gesture, so play() is allowed; a refusal leaves the controls to the user.
      els.audio.play().catch(() => {});
      changed();
    },
  };
}
