import type { WavFormat } from './wav-header.ts';

/**
 * Decoders of every sample encoding the scanner reads, to a number in full-scale units (±1). One
 * set, shared by the statistics (signal-stats.ts) and the 16-bit conversion of the audio route
 * (pcm16.ts).
 */

export const MULAW = new Float64Array(256);
export const ALAW = new Float64Array(256);
for (let i = 0; i < 256; i++) {
  // ITU-T G.711 expansions, scaled to ±1.
  const u = ~i & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  MULAW[i] = (u & 0x80 ? 0x84 - t : t - 0x84) / 32768;
  const a = i ^ 0x55;
  const seg = (a & 0x70) >> 4;
  let v = (a & 0x0f) << 4;
  v = seg === 0 ? v + 8 : seg === 1 ? v + 0x108 : (v + 0x108) << (seg - 1);
  ALAW[i] = (a & 0x80 ? v : -v) / 32768;
}
/** The largest magnitude each law can express: its full scale, which its clipped samples reach. */
export const MULAW_MAX = Math.max(...MULAW.map(Math.abs));
export const ALAW_MAX = Math.max(...ALAW.map(Math.abs));

/** Reads one sample at a byte offset of a view, as a number in full-scale units. */
export type SampleDecoder = (view: DataView, at: number) => number;

function readIntN(v: DataView, at: number, n: number, le: boolean): number {
  let x = 0;
  for (let i = 0; i < n; i++) x = x * 256 + v.getUint8(le ? at + n - 1 - i : at + i);
  const top = 2 ** (8 * n);
  return x >= top / 2 ? x - top : x;
}

/** The decoder of a format's samples, or null for an encoding that is not decoded. */
export function decoderFor(fmt: WavFormat): SampleDecoder | null {
  const le = fmt.littleEndian;
  const n = fmt.bytesPerSample;
  const scale = 2 ** (8 * n - 1);
  switch (fmt.kind) {
    case 'uint8':
      return (v, at) => (v.getUint8(at) - 128) / 128;
    case 'mulaw':
      return (v, at) => MULAW[v.getUint8(at)]!;
    case 'alaw':
      return (v, at) => ALAW[v.getUint8(at)]!;
    case 'float':
      return n === 4 ? (v, at) => v.getFloat32(at, le) : (v, at) => v.getFloat64(at, le);
    case 'int': {
      if (n === 2) return (v, at) => v.getInt16(at, le) / scale;
      if (n === 3) return le ? (v, at) => ((v.getInt8(at + 2) << 16) | v.getUint16(at, true)) / scale : (v, at) => ((v.getInt8(at) << 16) | v.getUint16(at + 1, false)) / scale;
      if (n === 4) return (v, at) => v.getInt32(at, le) / scale;
      // 5–8 byte integers: high part signed, low 32 bits unsigned; float precision is plenty here.
      const hiBytes = n - 4;
      return le
        ? (v, at) => (readIntN(v, at + 4, hiBytes, true) * 0x100000000 + v.getUint32(at, true)) / scale
        : (v, at) => (readIntN(v, at, hiBytes, false) * 0x100000000 + v.getUint32(at + hiBytes, false)) / scale;
    }
    default:
      return null;
  }
}

/** The level at or beyond which a sample counts as clipped: within one valid LSB of full scale. */
export function clipLevel(fmt: WavFormat): number {
  if (fmt.kind === 'float') return 1;
  // Each law's own: with the larger of the two (a-law's 32256/32768), no mu-law sample (at most
  // 32124/32768) could ever count as clipped.
  if (fmt.kind === 'mulaw') return MULAW_MAX;
  if (fmt.kind === 'alaw') return ALAW_MAX;
  return 1 - 2 ** (1 - Math.min(fmt.bitsPerSample, 8 * fmt.bytesPerSample));
}
