import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeFile, SAMPLE_CHUNK, type AnalyzerState } from '../../src/scan/analyze-file.ts';
import { TranscriptReader } from '../../src/scan/libritts.ts';
import { DBFS_FLOOR, SignalAccumulator } from '../../src/scan/signal-stats.ts';
import type { WavFormat } from '../../src/scan/wav-header.ts';
import { SPEAKERS, speech, withNoise } from '../helpers/speech.ts';
import { tempDir } from '../helpers/libritts-tree.ts';
import { float32, rawWav, toneWav, WaveFile } from '../helpers/wav.ts';

const dir = tempDir('vl-stats-');
let n = 0;
function analyze(bytes: Uint8Array, bufferSize = SAMPLE_CHUNK) {
  const name = `f${n++}.wav`;
  fs.writeFileSync(path.join(dir, name), bytes);
  const state: AnalyzerState = { buffer: Buffer.alloc(bufferSize), transcripts: new TranscriptReader() };
  return analyzeFile(dir, { rel: name, link: false }, 'full', state);
}

/** Reference statistics computed the slow way, from wavefile's decoded samples. */
function reference(bytes: Uint8Array) {
  const w = new WaveFile(bytes);
  const fmt = w.fmt as { bitsPerSample: number; audioFormat: number; numChannels: number };
  const samples = w.getSamples(true, Float64Array) as unknown as Float64Array;
  const scale = fmt.audioFormat === 3 ? 1 : fmt.bitsPerSample === 8 ? 128 : 2 ** (fmt.bitsPerSample - 1);
  let peak = 0;
  let sumSq = 0;
  for (let v of samples) {
    if (fmt.bitsPerSample === 8) v -= 128;
    const x = v / scale;
    peak = Math.max(peak, Math.abs(x));
    sumSq += x * x;
  }
  return { peak_dbfs: 20 * Math.log10(peak), rms_dbfs: 10 * Math.log10(sumSq / samples.length) };
}

describe('signal statistics (full analysis)', () => {
  it('a −6 dBFS sine: peak −6.02 dB, RMS −9.03 dB, no clipping, no DC', () => {
    const r = analyze(toneWav({ amplitude: 0.5, durationS: 1, frequency: 1000 }));
    expect(r.error).toBeNull();
    expect(r.peak_dbfs).toBeCloseTo(-6.02, 1);
    expect(r.rms_dbfs).toBeCloseTo(-9.03, 1);
    expect(r.clipped_samples).toBe(0);
    expect(Math.abs(r.dc_offset!)).toBeLessThan(1e-3);
  });

  it.each(['8', '16', '24', '32', '32f', '64'])('%s-bit matches the wavefile-decoded reference', (depth) => {
    const bytes = toneWav({ bitDepth: depth, amplitude: 0.4, durationS: 0.25, channels: 2 });
    const r = analyze(bytes);
    const ref = reference(bytes);
    expect(r.error).toBeNull();
    expect(r.peak_dbfs!).toBeCloseTo(ref.peak_dbfs, 1);
    expect(r.rms_dbfs!).toBeCloseTo(ref.rms_dbfs, 1);
  });

  it('measures leading and trailing silence (threshold −60 dBFS)', () => {
    const r = analyze(toneWav({ leadS: 0.25, durationS: 0.5, tailS: 0.4, amplitude: 0.5 }));
    expect(r.leading_silence_s).toBeCloseTo(0.25, 2);
    expect(r.trailing_silence_s).toBeCloseTo(0.4, 2);
    expect(r.duration_s).toBeCloseTo(1.15, 3);
  });

  it('counts clipped samples and measures DC offset', () => {
    const r = analyze(toneWav({ amplitude: 1.5, durationS: 0.1, dc: 0 }));
    expect(r.clipped_samples).toBeGreaterThan(100);
    expect(r.peak_dbfs).toBeCloseTo(0, 1);
    const dc = analyze(toneWav({ amplitude: 0.1, dc: 0.25, durationS: 0.5, frequency: 1000 }));
    expect(dc.dc_offset).toBeCloseTo(0.25, 2);
  });

  it('counts clipping one valid LSB from full scale whatever the container: 12 valid bits in 2 bytes, mu-law and a-law at their own full scale', () => {
    // A full-scale 12-bit square, left-justified in 16 bits: +2047 and -2048 twelve-bit steps.
    const square = Buffer.alloc(2 * 2400);
    for (let i = 0; i < 2400; i++) square.writeInt16LE(i % 2 ? 2047 << 4 : -2048 << 4, 2 * i);
    expect(analyze(rawWav({ bitsPerSample: 12, data: square })).clipped_samples).toBe(2400);
    // The same samples as 16 valid bits: +32752 is 15 LSBs short of full scale, not clipped.
    expect(analyze(rawWav({ bitsPerSample: 16, data: square })).clipped_samples).toBe(1200);
    // G.711 codes at each law's largest magnitude, both signs.
    const codes = (a: number, b: number) => Buffer.from(Array.from({ length: 1600 }, (_, i) => (i % 2 ? a : b)));
    expect(analyze(rawWav({ formatTag: 7, bitsPerSample: 8, data: codes(0x80, 0x00) })).clipped_samples).toBe(1600); // mu-law
    expect(analyze(rawWav({ formatTag: 6, bitsPerSample: 8, data: codes(0xaa, 0x2a) })).clipped_samples).toBe(1600); // a-law
  });

  it("the SNR leaves samples that are not numbers out of each frame's mean square, instead of counting them as silence", () => {
    const clean = withNoise(speech(SPEAKERS[2]!), 20, 7);
    // Every other sample NaN where the clip is quiet (its pauses): the frames there keep their level.
    const quiet = Array.from(clean, (v) => Math.abs(v) < 0.01);
    const broken = clean.map((v, i) => (quiet[i] && i % 2 ? NaN : v));
    const a = analyze(rawWav({ formatTag: 3, bitsPerSample: 32, data: float32([...clean]) })).snr_db!;
    const b = analyze(rawWav({ formatTag: 3, bitsPerSample: 32, data: float32([...broken]) })).snr_db!;
    expect(Math.abs(b - a), `${a} dB clean, ${b} dB with NaNs`).toBeLessThan(0.5);
  });

  it('digital silence reports the documented floor and all-silence durations', () => {
    const r = analyze(toneWav({ amplitude: 0, durationS: 0.2 }));
    expect(r.peak_dbfs).toBe(DBFS_FLOOR);
    expect(r.rms_dbfs).toBe(DBFS_FLOOR);
    expect(r.leading_silence_s).toBeCloseTo(0.2, 3);
    expect(r.trailing_silence_s).toBeCloseTo(0.2, 3);
  });

  it('reading in small chunks gives the same answer as one pass (bounded memory for any size)', () => {
    const bytes = toneWav({ durationS: 3, leadS: 0.3, tailS: 0.2, amplitude: 0.7, channels: 2 });
    const whole = analyze(bytes);
    const chunked = analyze(bytes, 4096);
    // The two files differ in name and modification time only.
    expect(chunked).toEqual({ ...whole, path: chunked.path, mtime_ns: chunked.mtime_ns, sidecars: chunked.sidecars });
  });

  it('header-only analysis leaves the signal fields null', () => {
    const name = 'header-only.wav';
    fs.writeFileSync(path.join(dir, name), toneWav());
    const r = analyzeFile(dir, { rel: name, link: false }, 'header', { buffer: Buffer.alloc(SAMPLE_CHUNK), transcripts: new TranscriptReader() });
    expect(r.frames).toBe(2400);
    for (const k of ['peak_dbfs', 'rms_dbfs', 'clipped_samples', 'dc_offset', 'leading_silence_s', 'trailing_silence_s'] as const) expect(r[k]).toBeNull();
  });
});

describe('SNR frames of a very long file', () => {
  it('go to a histogram past the cap: memory stays bounded, the estimate stays put', () => {
    const fmt: WavFormat = {
      container: 'RIFF',
      kind: 'int',
      sampleRate: 24_000,
      channels: 1,
      bitsPerSample: 16,
      bytesPerSample: 2,
      blockAlign: 2,
      littleEndian: true,
      encoding: 'pcm_s16le',
      formatTag: 1,
    };
    const clip = withNoise(speech(SPEAKERS[2]!), 15, 5);
    const pcm = Buffer.alloc(clip.length * 2);
    clip.forEach((v, i) => pcm.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(v * 32768))), i * 2));
    const once = new SignalAccumulator(fmt);
    once.push(pcm);
    // 40 repetitions under a cap of 1024 frames (20 s): the last 380 s go to the histogram.
    const long = new SignalAccumulator(fmt, { maxSnrFrames: 1024 });
    for (let i = 0; i < 40; i++) {
      long.push(pcm);
      expect(long.snrFrames).toBeLessThanOrEqual(1024);
    }
    const a = once.result().snr_db!;
    const b = long.result().snr_db!;
    // The same clip 40 times has the same distribution of frame energies: the same estimate, to the bin.
    expect(Math.abs(a - b), `${a} dB once, ${b} dB over 40 repetitions in a histogram`).toBeLessThanOrEqual(0.2);
    expect(Math.abs(b - 15)).toBeLessThanOrEqual(4);
  });
});
