// A small waveform of one clip, drawn on a <canvas> from the 16-bit WAV the server converts to
// (`as=pcm16`): parsing that format directly costs a few lines and needs no AudioContext (which
// browsers hold back until a user gesture). Min and max per pixel column, like audio editors.
import { authHeaders } from './api.js';

/** Longer clips are not drawn: the picture is a nicety, not worth megabytes of download. */
export const MAX_SECONDS = 60;
const MAX_BYTES = 16 * 1024 * 1024;

/** { sampleRate, channels, samples: Int16Array (interleaved) } of a 16-bit PCM WAV, or null. */
export function parseWav16(buffer) {
  const view = new DataView(buffer);
  const tag = (at) => String.fromCharCode(...new Uint8Array(buffer, at, 4));
  if (buffer.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return null;
  let fmt = null;
  for (let at = 12; at + 8 <= buffer.byteLength;) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ' && size >= 16) {
      fmt = { format: view.getUint16(body, true), channels: view.getUint16(body + 2, true), sampleRate: view.getUint32(body + 4, true), bits: view.getUint16(body + 14, true) };
    } else if (id === 'data') {
      if (!fmt || fmt.format !== 1 || fmt.bits !== 16 || fmt.channels < 1) return null;
      // A streamed WAV may state a size larger than what arrived: take what is there.
      const frames = Math.floor(Math.min(size, buffer.byteLength - body) / (2 * fmt.channels));
      const samples = new Int16Array(buffer.slice(body, body + frames * 2 * fmt.channels));
      return { sampleRate: fmt.sampleRate, channels: fmt.channels, samples };
    }
    at = body + size + (size % 2); // chunks are padded to an even size
  }
  return null;
}

/** Min and max (−1…1) of every column, over all channels: [min0, max0, min1, max1, …]. */
export function peaks({ channels, samples }, columns) {
  const frames = samples.length / channels;
  const out = new Float32Array(columns * 2);
  for (let x = 0; x < columns; x++) {
    const from = Math.floor((x * frames) / columns) * channels;
    const to = Math.max(from + channels, Math.floor(((x + 1) * frames) / columns) * channels);
    let lo = 0;
    let hi = 0;
    for (let i = from; i < to && i < samples.length; i++) {
      const v = samples[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    out[2 * x] = lo / 32768;
    out[2 * x + 1] = hi / 32767;
  }
  return out;
}

function draw(canvas, pcm) {
  const dpr = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth * dpr));
  const height = Math.max(1, Math.round(canvas.clientHeight * dpr));
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, width, height);
  // The colour comes from the stylesheet (`color` of the canvas), so the theme stays in CSS.
  ctx.fillStyle = getComputedStyle(canvas).color;
  const p = peaks(pcm, width);
  const mid = height / 2;
  for (let x = 0; x < width; x++) {
    const top = mid - p[2 * x + 1] * mid;
    const bottom = mid - p[2 * x] * mid;
    ctx.fillRect(x, top, 1, Math.max(1, bottom - top));
  }
}

/**
 * Fetches `url` (a pcm16 audio URL, sent with the bearer header) and draws it on `canvas`.
 * Resolves true when drawn; false when skipped (too long, not 16-bit PCM, an HTTP error) or aborted.
 */
export async function drawWaveform(canvas, url, { durationS = null, signal } = {}) {
  canvas.hidden = true;
  delete canvas.dataset.drawn;
  if (durationS !== null && durationS > MAX_SECONDS) return false;
  try {
    const res = await fetch(url, { headers: authHeaders(), signal });
    if (!res.ok || Number(res.headers.get('Content-Length') ?? 0) > MAX_BYTES) {
      res.body?.cancel();
      return false;
    }
    const pcm = parseWav16(await res.arrayBuffer());
    if (!pcm || signal?.aborted) return false;
    canvas.hidden = false; // shown before drawing: its CSS size sets the resolution
    draw(canvas, pcm);
    canvas.dataset.drawn = 'true';
    return true;
  } catch {
    return false; // aborted by a newer clip, or the network went away: no picture, no error
  }
}
