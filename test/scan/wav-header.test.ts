import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyzeFile, SAMPLE_CHUNK, type AnalyzerState } from '../../src/scan/analyze-file.ts';
import { BufferSource } from '../../src/scan/byte-source.ts';
import { TranscriptReader } from '../../src/scan/libritts.ts';
import { readWavHeader } from '../../src/scan/wav-header.ts';
import { oracleHeader, toneWav, WaveFile } from '../helpers/wav.ts';
import { tempDir } from '../helpers/libritts-tree.ts';

// The real path: analyzeFile's root must be one (the service always resolves it), and ../shared may be a symlink.
const CORPUS = fs.realpathSync(fileURLToPath(new URL('../../../shared/wav-conformance/', import.meta.url)));

interface Expectation {
  file: string;
  expect: 'ok' | 'truncated' | 'error';
  container?: string;
  sample_rate?: number;
  channels?: number;
  bits_per_sample?: number;
  frames?: number;
  frames_declared?: number;
  why?: string;
}

const expectations = JSON.parse(fs.readFileSync(path.join(CORPUS, 'expectations.json'), 'utf8')) as Expectation[];
const state = (): AnalyzerState => ({ buffer: Buffer.alloc(SAMPLE_CHUNK), transcripts: new TranscriptReader() });

describe('WAV conformance corpus (../shared/wav-conformance)', () => {
  it('has the corpus and every file it lists', () => {
    expect(expectations.length).toBeGreaterThanOrEqual(40);
    for (const e of expectations) expect(fs.existsSync(path.join(CORPUS, e.file)), e.file).toBe(true);
  });

  for (const e of expectations) {
    it(`${e.file}: ${e.expect}${e.why ? ` (${e.why})` : ''}`, () => {
      const bytes = fs.readFileSync(path.join(CORPUS, e.file));
      const header = readWavHeader(new BufferSource(bytes));
      const heapBefore = process.memoryUsage().arrayBuffers;
      for (const analysis of ['header', 'full'] as const) {
        const r = analyzeFile(CORPUS, { rel: e.file, link: false }, analysis, state());
        if (e.expect === 'error') {
          expect(r.error, `${analysis}: an error code`).not.toBeNull();
          expect(r.error!.code).toMatch(/^[A-Z_]+$/);
          expect(r.frames === null || r.error!.code === 'TRUNCATED').toBe(true);
          continue;
        }
        expect(r.sample_rate).toBe(e.sample_rate);
        expect(r.channels).toBe(e.channels);
        expect(r.bits_per_sample).toBe(e.bits_per_sample);
        expect(r.frames).toBe(e.frames);
        expect(r.bytes).toBe(bytes.length);
        if (e.expect === 'truncated') {
          expect(r.error?.code).toBe('TRUNCATED');
          expect(header.data?.framesDeclared).toBe(e.frames_declared);
        } else {
          expect(r.error).toBeNull();
        }
        if (analysis === 'full' && r.encoding !== null && /^pcm_[suf]/.test(r.encoding) && e.expect === 'ok') {
          expect(r.peak_dbfs, 'signal stats for PCM/float').not.toBeNull();
          expect(r.rms_dbfs).not.toBeNull();
        }
      }
      expect(header.format?.container ?? null).toBe(e.container ?? (e.expect === 'error' ? (header.format?.container ?? null) : null));
      // Whatever a header claims, reading it allocates next to nothing.
      expect(process.memoryUsage().arrayBuffers - heapBefore).toBeLessThan(8 * 1024 * 1024);
    });
  }
});

describe('readWavHeader against wavefile (the oracle)', () => {
  const cases: { name: string; bytes: () => Buffer }[] = [
    { name: '16-bit mono 24 kHz', bytes: () => toneWav({ durationS: 0.2 }) },
    { name: '16-bit stereo 48 kHz', bytes: () => toneWav({ sampleRate: 48000, channels: 2, durationS: 0.1 }) },
    { name: '8-bit unsigned', bytes: () => toneWav({ bitDepth: '8', sampleRate: 8000 }) },
    { name: '24-bit', bytes: () => toneWav({ bitDepth: '24', sampleRate: 44100 }) },
    { name: '32-bit int', bytes: () => toneWav({ bitDepth: '32' }) },
    { name: '32-bit float', bytes: () => toneWav({ bitDepth: '32f' }) },
    { name: '64-bit float', bytes: () => toneWav({ bitDepth: '64', channels: 2 }) },
    {
      name: 'RIFX big-endian 16-bit',
      bytes: () => {
        const w = new WaveFile(toneWav({ durationS: 0.05 }));
        w.toRIFX();
        return Buffer.from(w.toBuffer());
      },
    },
    {
      name: 'mu-law',
      bytes: () => {
        const w = new WaveFile(toneWav({ sampleRate: 8000 }));
        w.toMuLaw();
        return Buffer.from(w.toBuffer());
      },
    },
    {
      name: 'a-law',
      bytes: () => {
        const w = new WaveFile(toneWav({ sampleRate: 8000 }));
        w.toALaw();
        return Buffer.from(w.toBuffer());
      },
    },
    {
      name: 'with a LIST chunk before data',
      bytes: () => {
        const w = new WaveFile(toneWav({ durationS: 0.05 }));
        w.setTag('ICMT', 'x'.repeat(5000));
        return Buffer.from(w.toBuffer());
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const bytes = c.bytes();
      const ours = readWavHeader(new BufferSource(bytes));
      const oracle = oracleHeader(bytes);
      expect(ours.error).toBeNull();
      expect(ours.format!.sampleRate).toBe(oracle.sampleRate);
      expect(ours.format!.channels).toBe(oracle.channels);
      expect(ours.format!.bitsPerSample).toBe(oracle.bitsPerSample);
      expect(ours.data!.frames).toBe(oracle.frames);
    });
  }

  it('agrees with wavefile on every corpus file both accept', () => {
    let compared = 0;
    for (const e of expectations.filter((x) => x.expect === 'ok')) {
      const bytes = fs.readFileSync(path.join(CORPUS, e.file));
      let oracle: ReturnType<typeof oracleHeader>;
      try {
        oracle = oracleHeader(bytes);
      } catch {
        continue; // formats wavefile itself rejects (odd widths, RF64)
      }
      const ours = readWavHeader(new BufferSource(bytes));
      expect(ours.format!.sampleRate, e.file).toBe(oracle.sampleRate);
      expect(ours.format!.channels, e.file).toBe(oracle.channels);
      compared++;
    }
    expect(compared).toBeGreaterThan(15);
  });

  it('finds fmt and data beyond the first 4 KiB through the file reader', () => {
    const dir = tempDir();
    const w = new WaveFile(toneWav({ durationS: 0.05 }));
    w.setTag('ICMT', 'y'.repeat(10_000));
    fs.writeFileSync(path.join(dir, 'big-list.wav'), w.toBuffer());
    const r = analyzeFile(dir, { rel: 'big-list.wav', link: false }, 'header', state());
    expect(r.error).toBeNull();
    expect(r.frames).toBe(oracleHeader(w.toBuffer()).frames);
  });

  it('reports the frames present and TRUNCATED when the header promises more', () => {
    const full = toneWav({ durationS: 0.1 });
    const cut = full.subarray(0, full.length - 1000);
    const h = readWavHeader(new BufferSource(cut));
    expect(h.error?.code).toBe('TRUNCATED');
    expect(h.data!.framesDeclared).toBe(2400);
    expect(h.data!.frames).toBe(2400 - 500);
  });

  it('treats a streamed data size (0xFFFFFFFF) as "to the end of the file", not as truncation', () => {
    const bytes = Buffer.from(toneWav({ durationS: 0.1 }));
    bytes.writeUInt32LE(0xffffffff, 40);
    const h = readWavHeader(new BufferSource(bytes));
    expect(h.error).toBeNull();
    expect(h.data!.frames).toBe(2400);
    expect(h.data!.framesDeclared).toBeNull();
  });

  it('a header claiming 4 GB of data allocates nothing for it', () => {
    const bytes = Buffer.from(toneWav({ durationS: 0.01 }));
    bytes.writeUInt32LE(0xfffffff0, 40);
    bytes.writeUInt32LE(0xfffffff0, 4);
    const before = process.memoryUsage().arrayBuffers;
    const h = readWavHeader(new BufferSource(bytes));
    expect(h.error?.code).toBe('TRUNCATED');
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
  });

  it.each([
    ['empty', new Uint8Array(0), 'TRUNCATED'],
    ['garbage', Buffer.from('hello world, not audio'), 'NOT_RIFF_WAVE'],
    ['RIFF but not WAVE', Buffer.from('RIFF\x04\x00\x00\x00AVI LIST'), 'NOT_RIFF_WAVE'],
    ['RIFF cut after 6 bytes', Buffer.from('RIFF\x04\x00'), 'TRUNCATED'],
  ])('%s → %s', (_name, bytes, code) => {
    expect(readWavHeader(new BufferSource(bytes as Uint8Array)).error?.code).toBe(code);
  });

  it('reports an undecodable encoding with its header', () => {
    const bytes = Buffer.from(toneWav({ durationS: 0.01 }));
    bytes.writeUInt16LE(0x0011, 20); // IMA ADPCM
    const h = readWavHeader(new BufferSource(bytes));
    expect(h.error?.code).toBe('UNSUPPORTED_ENCODING');
    expect(h.format!.sampleRate).toBe(24000);
  });
});
