import { decoderFor } from './sample-decode.ts';
import type { WavFormat } from './wav-header.ts';

/**
 * 16-bit PCM conversion, for the audio route's `?as=pcm16`: RIFX, RF64, 8–64-bit integers,
 * floats, mu-law and a-law in, a plain RIFF 16-bit little-endian WAV (same rate and channels)
 * out, which every browser plays. Samples go through the statistics' own decoders
 * (sample-decode.ts), are scaled to 16 bits, rounded to nearest and clipped; NaN becomes 0.
 */

const MAX_RIFF = 0xffffffff;

/** The 44-byte header of a 16-bit PCM WAV holding `frames` frames. */
export function pcm16Header(frames: number, sampleRate: number, channels: number): Buffer {
  const data = frames * channels * 2;
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  // Past 4 GB the sizes cannot be told in RIFF: "unknown" (as streamed WAVs say), read to the end.
  h.writeUInt32LE(Math.min(MAX_RIFF, 36 + data), 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(Math.min(MAX_RIFF, data), 40);
  return h;
}

/**
 * Why a format cannot be converted, or null when it can: its samples must decode, and the 16-bit
 * output's header must hold its block size (16 bits) and byte rate (32 bits). A file that only
 * fails the latter (40,000 channels; 4 GHz) would otherwise be promised with a Content-Length
 * and then end with no bytes, as writing the header throws.
 */
export function cannotConvert(fmt: WavFormat): string | null {
  if (decoderFor(fmt) === null) return 'no decodable samples';
  if (fmt.channels * 2 > 0xffff) return `${fmt.channels} channels do not fit a 16-bit WAV header`;
  if (fmt.sampleRate * fmt.channels * 2 > MAX_RIFF) return `${fmt.sampleRate} Hz × ${fmt.channels} channels do not fit a 16-bit WAV header`;
  return null;
}

/** Converts whole frames of `fmt` to 16-bit little-endian samples. */
export function toPcm16(fmt: WavFormat, bytes: Uint8Array): Buffer {
  const frames = Math.floor(bytes.length / fmt.blockAlign);
  const n = frames * fmt.channels;
  const out = Buffer.allocUnsafe(n * 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, frames * fmt.blockAlign);
  if (fmt.kind === 'int' && fmt.bytesPerSample === 2 && fmt.littleEndian) {
    out.set(bytes.subarray(0, n * 2));
    return out;
  }
  const decode = decoderFor(fmt)!;
  const step = fmt.bytesPerSample;
  for (let i = 0, at = 0; i < n; i++, at += step) {
    const x = decode(view, at) * 32768;
    const v = x !== x ? 0 : x >= 32767 ? 32767 : x <= -32768 ? -32768 : Math.round(x);
    out.writeInt16LE(v, i * 2);
  }
  return out;
}
