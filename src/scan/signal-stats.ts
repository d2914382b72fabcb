import type { WavFormat } from './wav-header.ts';

/** Frames whose loudest channel stays below this (linear, ≈ −60 dBFS) count as silence. */
export const SILENCE_THRESHOLD = 0.001;
/** Float samples beyond this many times full scale (or NaN, ±Inf) are not measured; see push(). */
export const UNMEASURABLE = 2 ** 53;
/** Reported for digital silence, where the true level is −∞ and JSON cannot say so. */
export const DBFS_FLOOR = -200;

export interface SignalStats {
  peak_dbfs: number;
  rms_dbfs: number;
  clipped_samples: number;
  dc_offset: number;
  leading_silence_s: number;
  trailing_silence_s: number;
}

const MULAW = new Float64Array(256);
const ALAW = new Float64Array(256);
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
const G711_MAX = Math.max(...MULAW.map(Math.abs), ...ALAW.map(Math.abs));

const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
const dbfs = (linear: number): number => (linear > 0 ? Math.max(DBFS_FLOOR, 20 * Math.log10(linear)) : DBFS_FLOOR);

/**
 * Accumulates peak, RMS, clipping, DC offset and leading/trailing silence over a WAV's samples,
 * fed in chunks of whole frames so that a file of any size is read in bounded memory.
 */
export class SignalAccumulator {
  private peak = 0;
  private sumSq = 0;
  private sum = 0;
  private samples = 0;
  private clipped = 0;
  private frames = 0;
  private firstLoud = -1;
  private lastLoud = -1;
  private readonly clipAt: number;
  private readonly decode: ((view: DataView, at: number) => number) | null;

  constructor(private readonly fmt: WavFormat) {
    const le = fmt.littleEndian;
    const n = fmt.bytesPerSample;
    const scale = 2 ** (8 * n - 1);
    // A sample within one least-significant valid bit of full scale is clipped.
    this.clipAt = fmt.kind === 'float' ? 1 : fmt.kind === 'mulaw' || fmt.kind === 'alaw' ? G711_MAX : 1 - 2 ** (1 - Math.min(fmt.bitsPerSample, 8 * n));
    switch (fmt.kind) {
      case 'uint8':
        this.decode = (v, at) => (v.getUint8(at) - 128) / 128;
        break;
      case 'mulaw':
        this.decode = (v, at) => MULAW[v.getUint8(at)]!;
        break;
      case 'alaw':
        this.decode = (v, at) => ALAW[v.getUint8(at)]!;
        break;
      case 'float':
        this.decode = n === 4 ? (v, at) => v.getFloat32(at, le) : (v, at) => v.getFloat64(at, le);
        break;
      case 'int':
        if (n === 2) this.decode = (v, at) => v.getInt16(at, le) / scale;
        else if (n === 3)
          this.decode = le
            ? (v, at) => ((v.getInt8(at + 2) << 16) | v.getUint16(at, true)) / scale
            : (v, at) => ((v.getInt8(at) << 16) | v.getUint16(at + 1, false)) / scale;
        else if (n === 4) this.decode = (v, at) => v.getInt32(at, le) / scale;
        else {
          // 5–8 byte integers: high part signed, low 32 bits unsigned; float precision is plenty here.
          const hiBytes = n - 4;
          this.decode = le
            ? (v, at) => (readIntN(v, at + 4, hiBytes, true) * 0x100000000 + v.getUint32(at, true)) / scale
            : (v, at) => (readIntN(v, at, hiBytes, false) * 0x100000000 + v.getUint32(at + hiBytes, false)) / scale;
        }
        break;
      default:
        this.decode = null;
    }
  }

  /** Whether this format's samples can be decoded at all. */
  get decodable(): boolean {
    return this.decode !== null;
  }

  /** Feeds whole frames; `bytes.length` must be a multiple of the block align. */
  push(bytes: Uint8Array): void {
    const { channels, blockAlign, bytesPerSample, littleEndian } = this.fmt;
    const frames = Math.floor(bytes.length / blockAlign);
    if (frames === 0) return;
    if (this.fmt.kind === 'int' && bytesPerSample === 2 && littleEndian && bytes.byteOffset % 2 === 0) {
      this.pushInt16(new Int16Array(bytes.buffer, bytes.byteOffset, frames * channels), frames, channels);
      return;
    }
    const decode = this.decode;
    if (!decode) return;
    const view = new DataView(bytes.buffer, bytes.byteOffset, frames * blockAlign);
    let peak = this.peak;
    let sum = 0;
    let sumSq = 0;
    let clipped = 0;
    let finite = 0;
    const clipAt = this.clipAt;
    for (let f = 0; f < frames; f++) {
      let loud = 0;
      let broken = false;
      const base = f * blockAlign;
      for (let c = 0; c < channels; c++) {
        const x = decode(view, base + c * bytesPerSample);
        const a = x < 0 ? -x : x;
        if (!(a <= UNMEASURABLE)) {
          // NaN, ±Inf or an absurd magnitude (float files only): no level can be measured from
          // it and no player can play it. It counts as a clipped sample, keeps its frame out of
          // the silence, and stays out of peak, RMS and DC, taken over the other samples.
          clipped++;
          broken = true;
          continue;
        }
        finite++;
        sum += x;
        sumSq += x * x;
        if (a >= clipAt) clipped++;
        if (a > loud) loud = a;
      }
      if (loud > peak) peak = loud;
      if (loud > SILENCE_THRESHOLD || broken) {
        if (this.firstLoud < 0) this.firstLoud = this.frames + f;
        this.lastLoud = this.frames + f;
      }
    }
    this.peak = peak;
    this.sum += sum;
    this.sumSq += sumSq;
    this.clipped += clipped;
    this.samples += finite;
    this.frames += frames;
  }

  // The LibriTTS case (16-bit little-endian) gets loops over a typed-array view: no copy, no decode calls.
  private pushInt16(a: Int16Array, frames: number, channels: number): void {
    const r = channels === 1 ? monoInt16(a, frames) : multiInt16(a, frames, channels);
    if (r.peak / 32768 > this.peak) this.peak = r.peak / 32768;
    this.sum += r.sum / 32768;
    this.sumSq += r.sumSq / (32768 * 32768);
    this.clipped += r.clipped;
    if (r.first >= 0) {
      if (this.firstLoud < 0) this.firstLoud = this.frames + r.first;
      this.lastLoud = this.frames + r.last;
    }
    this.samples += frames * channels;
    this.frames += frames;
  }

  result(): SignalStats {
    const sr = this.fmt.sampleRate;
    const duration = this.frames / sr;
    const silent = this.firstLoud < 0;
    return {
      peak_dbfs: round(dbfs(this.peak), 2),
      rms_dbfs: round(this.samples ? dbfs(Math.sqrt(this.sumSq / this.samples)) : DBFS_FLOOR, 2),
      clipped_samples: this.clipped,
      dc_offset: round(this.samples ? this.sum / this.samples : 0, 6),
      leading_silence_s: round(silent ? duration : this.firstLoud / sr, 3),
      trailing_silence_s: round(silent ? duration : (this.frames - 1 - this.lastLoud) / sr, 3),
    };
  }
}

function readIntN(v: DataView, at: number, n: number, le: boolean): number {
  let x = 0;
  for (let i = 0; i < n; i++) x = x * 256 + v.getUint8(le ? at + n - 1 - i : at + i);
  const top = 2 ** (8 * n);
  return x >= top / 2 ? x - top : x;
}

interface Int16Pass {
  peak: number;
  sum: number;
  sumSq: number;
  clipped: number;
  first: number;
  last: number;
}

const LOUD_INT16 = SILENCE_THRESHOLD * 32768;

// Kept apart from the class and monomorphic so that V8 compiles a tight loop.
function monoInt16(a: Int16Array, n: number): Int16Pass {
  let hi = 0;
  let lo = 0;
  let s0 = 0;
  let s1 = 0;
  let q0 = 0;
  let q1 = 0;
  let clipped = 0;
  // Two accumulators each, so the float adds do not wait on one another; only branches that are
  // almost never taken (a new extreme, a clipped sample), because the sign and loudness of
  // low-level noise are coin flips the branch predictor keeps losing.
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const v = a[i]!;
    const w = a[i + 1]!;
    s0 += v;
    s1 += w;
    q0 += v * v;
    q1 += w * w;
    if (v > hi) hi = v;
    if (v < lo) lo = v;
    if (w > hi) hi = w;
    if (w < lo) lo = w;
  }
  if (i < n) {
    const v = a[i]!;
    s0 += v;
    q0 += v * v;
    if (v > hi) hi = v;
    if (v < lo) lo = v;
  }
  if (hi >= 32767 || lo <= -32767) for (let k = 0; k < n; k++) if (a[k]! >= 32767 || a[k]! <= -32767) clipped++;
  const peak = Math.max(hi, -lo);
  // First and last loud samples: short scans in from each end.
  let first = -1;
  let last = -1;
  if (peak > LOUD_INT16) {
    for (first = 0; first < n; first++) if (a[first]! > LOUD_INT16 || a[first]! < -LOUD_INT16) break;
    for (last = n - 1; last > first; last--) if (a[last]! > LOUD_INT16 || a[last]! < -LOUD_INT16) break;
  }
  return { peak, sum: s0 + s1, sumSq: q0 + q1, clipped, first, last };
}

function multiInt16(a: Int16Array, frames: number, channels: number): Int16Pass {
  let peak = 0;
  let sum = 0;
  let sumSq = 0;
  let clipped = 0;
  let first = -1;
  let last = -1;
  let i = 0;
  for (let f = 0; f < frames; f++) {
    let loud = 0;
    for (let c = 0; c < channels; c++, i++) {
      const v = a[i]!;
      sum += v;
      sumSq += v * v;
      const abs = v < 0 ? -v : v;
      if (abs >= 32767) clipped++;
      if (abs > loud) loud = abs;
    }
    if (loud > peak) peak = loud;
    if (loud > LOUD_INT16) {
      if (first < 0) first = f;
      last = f;
    }
  }
  return { peak, sum, sumSq, clipped, first, last };
}
