import { clipLevel, decoderFor, type SampleDecoder } from './sample-decode.ts';
import { COPY_AT, COPY_BYTES, int16Kernel, MAX_SAMPLES, MAX_SEGMENTS, type Int16Kernel } from './int16-kernel.ts';
import { EnergyHistogram, estimateSnrDbInPlace, snrFrameLength } from './snr.ts';
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
  snr_db: number | null;
}

const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
const dbfs = (linear: number): number => (linear > 0 ? Math.max(DBFS_FLOOR, 20 * Math.log10(linear)) : DBFS_FLOOR);

const INT16_SQ = 32768 * 32768;

/** At most this many SNR frame energies per file (8 MB, ~5.8 h); longer files go to a histogram (FrameEnergies.close). */
export const MAX_SNR_FRAMES = 1 << 20;

/**
 * The mean-square energy of every consecutive SNR frame (20 ms, snr.ts), the partial frame carried
 * from one chunk to the next; the last partial frame of a file is dropped.
 */
class FrameEnergies {
  energies = new Float64Array(512);
  count = 0;
  /** Sum of squares (full-scale units) and frames of the frame being filled. */
  sq = 0;
  fill = 0;
  /** Samples of the frame being filled that are not numbers: left out of its mean square. */
  dropped = 0;

  /** Past `max` frames, the energies go here instead. */
  private hist: EnergyHistogram | null = null;

  constructor(
    /** Audio frames per SNR frame. */
    readonly length: number,
    /** Samples per audio frame (channels): the energy is the mean over all of them. */
    readonly channels: number,
    private readonly max: number,
  ) {}

  /** Closes the current frame. */
  close(): void {
    this.closeWith(this.sq);
  }

  /** Closes a frame whose sum of squares is `sq` (the current one when called from close()). */
  closeWith(sq: number): void {
    const n = this.length * this.channels - this.dropped;
    this.sq = 0;
    this.fill = 0;
    this.dropped = 0;
    // A frame with no sample that is a number has no energy to tell: it is no frame of the SNR.
    if (n === 0) return;
    const e = sq / n;
    if (this.hist) {
      this.hist.add(e);
      return;
    }
    if (this.count === this.max) {
      // A file longer than ~5.8 h (a huge or sparse file): from here on a histogram of the
      // energies (snr.ts EnergyHistogram), so memory stays bounded for any length.
      this.hist = new EnergyHistogram();
      for (let i = 0; i < this.count; i++) this.hist.add(this.energies[i]!);
      this.hist.add(e);
      this.energies = new Float64Array(0);
      this.count = 0;
      return;
    }
    this.reserve(this.count + 1);
    this.energies[this.count++] = e;
  }

  /** Room for `n` energies held one by one, doubling the array as often as needed. */
  private reserve(n: number): void {
    if (n <= this.energies.length) return;
    let size = Math.max(256, this.energies.length * 2);
    while (size < n) size *= 2;
    const bigger = new Float64Array(size);
    bigger.set(this.energies.subarray(0, this.count));
    this.energies = bigger;
  }

  /**
   * Closes one whole frame per entry of `squares[from..to)` (sums of squares in int16 units), as
   * closeWith(q / INT16_SQ) each would, in one loop: the WebAssembly kernel's frames, ~1,000 per
   * MB of 24 kHz audio. Also adds them to `sumSq`, in order, and returns it.
   */
  closeEach(squares: Float64Array, from: number, to: number, sumSq: number): number {
    const frames = to - from;
    if (frames <= 0) return sumSq;
    if (this.hist || this.count + frames > this.max) {
      for (let s = from; s < to; s++) {
        sumSq += squares[s]!;
        this.closeWith(squares[s]! / INT16_SQ);
      }
      return sumSq;
    }
    this.reserve(this.count + frames);
    // The same two divisions as closeWith, so the energies are the same to the bit.
    const per = this.length * this.channels;
    const e = this.energies;
    let c = this.count;
    for (let s = from; s < to; s++) {
      const q = squares[s]!;
      sumSq += q;
      e[c++] = q / INT16_SQ / per;
    }
    this.count = c;
    this.sq = 0;
    this.fill = 0;
    return sumSq;
  }

  /** The estimate; the energies are reordered by it (a file's accumulator is done by then). */
  estimate(): number | null {
    return this.hist ? this.hist.estimate() : estimateSnrDbInPlace(this.energies, this.count);
  }
}

/**
 * Accumulates peak, RMS, clipping, DC offset, leading/trailing silence and the frame energies
 * the SNR is estimated from, over a WAV's samples fed in chunks of whole frames, so that a file
 * of any size is read in bounded memory.
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
  private readonly decode: SampleDecoder | null;
  private readonly snr: FrameEnergies;
  private readonly kernel: Int16Kernel | null;

  constructor(
    private readonly fmt: WavFormat,
    /**
     * `snr: false` skips the SNR (its frames never close), and `kernel: 'js'` runs the JavaScript
     * loops instead of the WebAssembly kernel: what the benchmark and the tests compare against.
     */
    opts: { maxSnrFrames?: number; snr?: boolean; kernel?: 'wasm' | 'js' } = {},
  ) {
    this.kernel = opts.kernel === 'js' ? null : int16Kernel();
    this.clipAt = clipLevel(fmt);
    this.decode = decoderFor(fmt);
    this.snr = new FrameEnergies(opts.snr === false ? Number.MAX_SAFE_INTEGER : snrFrameLength(fmt.sampleRate), fmt.channels, opts.maxSnrFrames ?? MAX_SNR_FRAMES);
  }

  /** How many SNR frame energies are held one by one now (at most MAX_SNR_FRAMES; then a histogram). */
  get snrFrames(): number {
    return this.snr.count;
  }

  /** A copy of the SNR frame energies held one by one so far (tests compare the kernels' to the bit). */
  get snrEnergies(): Float64Array {
    return this.snr.energies.slice(0, this.snr.count);
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
    // Only full 16-bit samples: the int16 loops and kernel clip at ±32767, one LSB of 16 valid
    // bits. 12 valid bits in 2 bytes clip one 12-bit LSB from full scale (clipLevel), as decoded.
    if (this.fmt.kind === 'int' && bytesPerSample === 2 && this.fmt.bitsPerSample === 16 && littleEndian && bytes.byteOffset % 2 === 0) {
      this.pushInt16(new Int16Array(bytes.buffer, bytes.byteOffset, frames * channels), frames, channels);
      return;
    }
    const decode = this.decode;
    if (!decode) return;
    const view = new DataView(bytes.buffer, bytes.byteOffset, frames * blockAlign);
    const snr = this.snr;
    let peak = this.peak;
    let sum = 0;
    let sumSq = 0;
    let clipped = 0;
    let finite = 0;
    const clipAt = this.clipAt;
    for (let f = 0; f < frames; f++) {
      let loud = 0;
      let broken = false;
      let frameSq = 0;
      const base = f * blockAlign;
      for (let c = 0; c < channels; c++) {
        const x = decode(view, base + c * bytesPerSample);
        const a = x < 0 ? -x : x;
        if (!(a <= UNMEASURABLE)) {
          // NaN, ±Inf or an absurd magnitude (float files only): no level can be measured from
          // it and no player can play it. It counts as a clipped sample, keeps its frame out of
          // the silence, and stays out of peak, RMS, DC and the SNR, taken over the other samples.
          clipped++;
          broken = true;
          snr.dropped++;
          continue;
        }
        finite++;
        sum += x;
        frameSq += x * x;
        if (a >= clipAt) clipped++;
        if (a > loud) loud = a;
      }
      sumSq += frameSq;
      snr.sq += frameSq;
      if (++snr.fill === snr.length) snr.close();
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
    const r = this.kernel ? kernelInt16(this.kernel, a, channels, this.snr) : channels === 1 ? monoInt16(a, frames, this.snr) : multiInt16(a, frames, channels, this.snr);
    if (r.peak / 32768 > this.peak) this.peak = r.peak / 32768;
    this.sum += r.sum / 32768;
    this.sumSq += r.sumSq / INT16_SQ;
    this.clipped += r.clipped;
    if (r.first >= 0) {
      if (this.firstLoud < 0) this.firstLoud = this.frames + r.first;
      this.lastLoud = this.frames + r.last;
    }
    this.samples += frames * channels;
    this.frames += frames;
  }

  /** The file's statistics, once its samples are all in: the SNR's estimate reorders the frame energies, so call it once. */
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
      snr_db: this.snr.estimate(),
    };
  }
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

/**
 * The int16 pass on the WebAssembly kernel: samples already in its memory (the analyzer reads
 * files there) are used in place, others are copied in slices. The kernel gives the sums of
 * squares per SNR frame; they are added here in the same order, with the same exact integer
 * values, as monoInt16/multiInt16 add them, so the results are the same to the bit.
 */
function kernelInt16(k: Int16Kernel, a: Int16Array, channels: number, snr: FrameEnergies): Int16Pass {
  const inPlace = a.buffer === k.memory;
  // A slice per call: whole frames, within the kernel's limits on samples and segments (the
  // SNR frame of snr: false is "never": one segment).
  const frameSamples = snr.length * channels;
  let most = Math.min(inPlace ? MAX_SAMPLES : COPY_BYTES / 2, frameSamples <= MAX_SAMPLES ? (MAX_SEGMENTS - 1) * frameSamples : MAX_SAMPLES);
  most -= most % channels;
  let hi = 0;
  let lo = 0;
  let sum = 0;
  let sumSq = 0;
  let first = -1;
  let last = -1;
  for (let at = 0; at < a.length; at += most) {
    const n = Math.min(most, a.length - at);
    let ptr = a.byteOffset + at * 2;
    if (!inPlace) {
      new Int16Array(k.memory, COPY_AT, n).set(a.subarray(at, at + n));
      ptr = COPY_AT;
    }
    const head = Math.min((snr.length - snr.fill) * channels, n);
    const r = k.run(ptr, n, head, Math.min(frameSamples, MAX_SAMPLES));
    if (r.max > hi) hi = r.max;
    if (r.min < lo) lo = r.min;
    sum += r.sum;
    // The first segment completes the frame carried in; the ones between are whole frames; the
    // last may be partial.
    const sq = r.squares;
    const segs = r.segments;
    for (let s = 0, left = n; s < segs; s++) {
      if (s === 1 && segs > 2) {
        // The segments between the first and the last: whole frames, closed in one loop.
        sumSq = snr.closeEach(sq, 1, segs - 1, sumSq);
        left -= (segs - 2) * frameSamples;
        s = segs - 2;
        continue;
      }
      const q = sq[s]!;
      sumSq += q;
      const len = Math.min(left, s === 0 ? head : frameSamples);
      left -= len;
      snr.sq += q / INT16_SQ;
      snr.fill += len / channels;
      if (snr.fill === snr.length) snr.close();
    }
    // First and last loud samples, scanned in from each end of the slice.
    if (Math.max(r.max, -r.min) > LOUD_INT16) {
      if (first < 0) first = at + k.firstLoud(ptr, n);
      last = at + k.lastLoud(ptr, n);
    }
  }
  const peak = Math.max(hi, -lo);
  let clipped = 0;
  if (peak >= 32767) for (let i = 0; i < a.length; i++) if (a[i]! >= 32767 || a[i]! <= -32767) clipped++;
  if (first >= 0) {
    first = Math.floor(first / channels);
    last = Math.floor(last / channels);
  }
  return { peak, sum, sumSq, clipped, first, last };
}

// Kept apart from the class and monomorphic so that V8 compiles a tight loop.
function monoInt16(a: Int16Array, n: number, snr: FrameEnergies): Int16Pass {
  let hi = 0;
  let lo = 0;
  let s0 = 0;
  let s1 = 0;
  let sumSq = 0;
  let clipped = 0;
  // The chunk in segments that end where SNR frames end (480 samples at 24 kHz): the same tight
  // loop per segment, and the segment's sum of squares is its frame's energy — no second pass.
  let i = 0;
  while (i < n) {
    const end = Math.min(n, i + snr.length - snr.fill);
    // Two accumulators each, so the float adds do not wait on one another; only branches that
    // are almost never taken (a new extreme), because the sign and loudness of low-level noise
    // are coin flips the branch predictor keeps losing.
    let q0 = 0;
    let q1 = 0;
    let j = i;
    for (; j + 1 < end; j += 2) {
      const v = a[j]!;
      const w = a[j + 1]!;
      s0 += v;
      s1 += w;
      q0 += v * v;
      q1 += w * w;
      if (v > hi) hi = v;
      if (v < lo) lo = v;
      if (w > hi) hi = w;
      if (w < lo) lo = w;
    }
    if (j < end) {
      const v = a[j]!;
      s0 += v;
      q0 += v * v;
      if (v > hi) hi = v;
      if (v < lo) lo = v;
    }
    const q = q0 + q1;
    sumSq += q;
    snr.sq += q / INT16_SQ;
    snr.fill += end - i;
    if (snr.fill === snr.length) snr.close();
    i = end;
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
  return { peak, sum: s0 + s1, sumSq, clipped, first, last };
}

function multiInt16(a: Int16Array, frames: number, channels: number, snr: FrameEnergies): Int16Pass {
  let peak = 0;
  let sum = 0;
  let sumSq = 0;
  let clipped = 0;
  let first = -1;
  let last = -1;
  let i = 0;
  for (let f = 0; f < frames; f++) {
    let loud = 0;
    let frameSq = 0;
    for (let c = 0; c < channels; c++, i++) {
      const v = a[i]!;
      sum += v;
      frameSq += v * v;
      const abs = v < 0 ? -v : v;
      if (abs >= 32767) clipped++;
      if (abs > loud) loud = abs;
    }
    sumSq += frameSq;
    snr.sq += frameSq / INT16_SQ;
    if (++snr.fill === snr.length) snr.close();
    if (loud > peak) peak = loud;
    if (loud > LOUD_INT16) {
      if (first < 0) first = f;
      last = f;
    }
  }
  return { peak, sum, sumSq, clipped, first, last };
}
