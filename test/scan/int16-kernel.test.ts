import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildWat, KERNEL_DIR } from '../../scripts/build-wasm.ts';
import { analyzeFile, SAMPLE_CHUNK, type AnalyzerState } from '../../src/scan/analyze-file.ts';
import { int16Kernel, sampleBuffer } from '../../src/scan/int16-kernel.ts';
import { TranscriptReader } from '../../src/scan/libritts.ts';
import { SignalAccumulator } from '../../src/scan/signal-stats.ts';
import type { WavFormat } from '../../src/scan/wav-header.ts';
import { tempDir } from '../helpers/libritts-tree.ts';
import { SPEAKERS, speech, withNoise } from '../helpers/speech.ts';
import { WaveFile } from '../helpers/wav.ts';

const toInt16 = (x: Float64Array): Int16Array => Int16Array.from(x, (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32768))));

const CORPUS = fs.realpathSync(fileURLToPath(new URL('../../../shared/wav-conformance/', import.meta.url)));

const int16 = (channels: number, sampleRate = 24_000): WavFormat =>
  ({
    container: 'RIFF',
    formatTag: 1,
    kind: 'int',
    encoding: 'pcm_s16le',
    bitsPerSample: 16,
    validBits: 16,
    bytesPerSample: 2,
    littleEndian: true,
    channels,
    blockAlign: 2 * channels,
    sampleRate,
  }) as WavFormat;

/** The statistics of `samples` fed in the given chunk sizes (bytes, whole frames), with one kernel or the other. */
function stats(fmt: WavFormat, samples: Int16Array, chunkFrames: number[], kernel: 'wasm' | 'js', inPlace: boolean, maxSnrFrames?: number) {
  const acc = new SignalAccumulator(fmt, { kernel, ...(maxSnrFrames ? { maxSnrFrames } : {}) });
  const bytes = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  // In place: the bytes sit in the kernel's own memory, where the analyzer reads files to.
  const io = inPlace ? sampleBuffer(SAMPLE_CHUNK) : null;
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = Math.min(bytes.length - at, Math.max(1, chunkFrames[i % chunkFrames.length]!) * fmt.blockAlign);
    let chunk = bytes.subarray(at, at + n);
    if (io && n <= io.length) {
      io.set(chunk);
      chunk = io.subarray(0, n);
    }
    acc.push(chunk);
    at += n;
  }
  // The SNR frames to the bit, and how many are held one by one (0 once they went to a histogram);
  // taken before result(), whose estimate reorders them.
  const frames = { held: acc.snrFrames, energies: acc.snrEnergies };
  return { ...acc.result(), frames };
}

describe('the WebAssembly int16 kernel', () => {
  it('is available here, and the committed binary is what its source builds to', async () => {
    expect(int16Kernel()).not.toBeNull();
    const built = await buildWat(path.join(KERNEL_DIR, 'int16-stats.wat'));
    expect(Buffer.from(built).equals(fs.readFileSync(path.join(KERNEL_DIR, 'int16-stats.wasm'))), 'run npm run build:wasm').toBe(true);
  });

  it('gives the JavaScript loops’ statistics to the bit: random samples, any channels, any chunking', () => {
    const sample = fc.oneof(
      fc.integer({ min: -32768, max: 32767 }),
      fc.constantFrom(-32768, -32767, 32767, 0, 32, 33, -33), // clip and silence edges
      fc.integer({ min: -40, max: 40 }), // near the −60 dBFS threshold
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(sample, { minLength: 0, maxLength: 5000 }),
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 5 }),
        fc.constantFrom(8000, 16_000, 24_000, 44_100),
        fc.boolean(),
        (channels, values, chunks, rate, inPlace) => {
          const frames = Math.floor(values.length / channels);
          const samples = Int16Array.from(values.slice(0, frames * channels));
          const fmt = int16(channels, rate);
          expect(stats(fmt, samples, chunks, 'wasm', inPlace)).toEqual(stats(fmt, samples, chunks, 'js', false));
        },
      ),
      { numRuns: 600 },
    );
  });

  it('agrees on long inputs: slices past its per-call limits, blocks past 4,096 vectors, full-scale squares', () => {
    const long = speech({ ...SPEAKERS[3]!, durationS: 30 }); // 720k samples: several calls, SNR frames across chunks
    const loud = new Int16Array(600_000).map((_, i) => (i % 3 === 0 ? -32768 : i % 3 === 1 ? 32767 : -32767));
    for (const [name, samples] of [
      ['speech', toInt16(long)],
      ['noisy', toInt16(withNoise(long, 10, 3))],
      ['full scale', loud],
    ] as const) {
      for (const chunk of [SAMPLE_CHUNK / 2, 65_537, 479]) {
        for (const ch of [1, 2]) {
          const fmt = int16(ch);
          const n = samples.length - (samples.length % ch);
          expect(stats(fmt, samples.subarray(0, n), [chunk / ch], 'wasm', true), `${name}, ${ch} ch, ${chunk}`).toEqual(
            stats(fmt, samples.subarray(0, n), [chunk / ch], 'js', false),
          );
        }
      }
    }
  });

  it('agrees across the SNR frame cap: the frames closed many at a time switch to the histogram where the loops do', () => {
    const samples = toInt16(withNoise(speech({ ...SPEAKERS[1]!, durationS: 12 }), 15, 7)); // 600 SNR frames
    // Caps below, at and above the frames one call closes; chunks that end inside and on frames.
    for (const cap of [25, 100, 299, 300, 599, 600, 601]) {
      for (const chunk of [SAMPLE_CHUNK / 2, 24_000, 4_801]) {
        const got = stats(int16(1), samples, [chunk], 'wasm', true, cap);
        expect(got, `cap ${cap}, chunk ${chunk}`).toEqual(stats(int16(1), samples, [chunk], 'js', false, cap));
        expect(got.snr_db).not.toBeNull();
      }
    }
  });

  it('the analyzer gives the same rows with either kernel on every file of the conformance corpus and on speech', () => {
    const dir = tempDir('vl-kernel-');
    const files: [string, string][] = [];
    for (const sub of fs.readdirSync(CORPUS, { withFileTypes: true })) {
      if (!sub.isDirectory()) continue;
      for (const f of fs.readdirSync(path.join(CORPUS, sub.name))) if (f.toLowerCase().endsWith('.wav')) files.push([CORPUS, `${sub.name}/${f}`]);
    }
    // Speech in the formats LibriTTS and others ship: mono and stereo 16-bit, long enough for many chunks.
    for (const [name, ch] of [
      ['mono.wav', 1],
      ['stereo.wav', 2],
    ] as const) {
      const s = toInt16(withNoise(speech({ ...SPEAKERS[2]!, durationS: 50 }), 20, 5));
      const w = new WaveFile();
      w.fromScratch(ch, 24_000, '16', ch === 1 ? s : [s, s.map((v) => -v)]);
      fs.writeFileSync(path.join(dir, name), w.toBuffer());
      files.push([dir, name]);
    }
    expect(files.length).toBeGreaterThan(20);
    const wasm: AnalyzerState = { buffer: sampleBuffer(SAMPLE_CHUNK), transcripts: new TranscriptReader() };
    const js: AnalyzerState = { buffer: Buffer.alloc(SAMPLE_CHUNK), transcripts: new TranscriptReader(), kernel: 'js' };
    let int16Files = 0;
    for (const [root, rel] of files) {
      const file = { rel, link: false };
      const a = analyzeFile(root, file, 'full', wasm);
      const b = analyzeFile(root, file, 'full', js);
      if (a.encoding === 'pcm_s16le' && a.error === null) int16Files++;
      expect(JSON.stringify({ ...a, mtime_ns: null }), rel).toBe(JSON.stringify({ ...b, mtime_ns: null }));
    }
    expect(int16Files).toBeGreaterThan(2);
  });
});
