import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufferSource, type ByteSource } from '../../src/scan/byte-source.ts';
import { readWavHeader } from '../../src/scan/wav-header.ts';
import { toneWav } from '../helpers/wav.ts';

const CODES = new Set(['NOT_RIFF_WAVE', 'TRUNCATED', 'INVALID_FORMAT', 'UNSUPPORTED_ENCODING']);

/** A source that counts what the reader asks for, to bound what it could allocate. */
class CountingSource implements ByteSource {
  requested = 0;
  reads = 0;
  constructor(private readonly inner: BufferSource) {}
  get size() {
    return this.inner.size;
  }
  read(offset: number, length: number) {
    this.reads++;
    this.requested += length;
    return this.inner.read(offset, length);
  }
}

function check(bytes: Uint8Array): void {
  const src = new CountingSource(new BufferSource(bytes));
  const started = performance.now();
  const h = readWavHeader(src); // must not throw
  expect(performance.now() - started).toBeLessThan(200);
  // Reads are chunk headers and small bodies, at most one of each per 8 bytes of file (a chunk
  // header is 8 bytes) plus the pad-byte probes: bounded by the file's real size, never by sizes
  // the header claims.
  expect(src.requested).toBeLessThanOrEqual(12 + (Math.floor(bytes.length / 8) + 1) * (8 + 64 + 8));
  if (h.error) expect(CODES.has(h.error.code)).toBe(true);
  else {
    expect(h.format!.channels).toBeGreaterThan(0);
    expect(h.format!.sampleRate).toBeGreaterThan(0);
    expect(h.data!.frames).toBeGreaterThanOrEqual(0);
    expect(h.data!.offset + h.data!.bytes).toBeLessThanOrEqual(bytes.length);
  }
  if (h.data) expect(Number.isSafeInteger(h.data.frames)).toBe(true);
}

const seeds = [
  toneWav({ durationS: 0.002 }),
  toneWav({ durationS: 0.002, bitDepth: '24', channels: 2 }),
  toneWav({ durationS: 0.002, bitDepth: '32f' }),
  toneWav({ durationS: 0.002, bitDepth: '8', sampleRate: 8000 }),
];

describe('readWavHeader on hostile input (property-based)', () => {
  it('random bytes: never throws, answers fast, reads a bounded amount (5,000 cases)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 512 }), (b) => check(b)),
      { numRuns: 5000 },
    );
  });

  it('random bytes behind a valid RIFF/RIFX/RF64 WAVE preamble (2,000 cases)', () => {
    fc.assert(
      fc.property(fc.constantFrom('RIFF', 'RIFX', 'RF64'), fc.uint8Array({ maxLength: 400 }), (magic, rest) => {
        const b = new Uint8Array(12 + rest.length);
        b.set(Buffer.from(`${magic}\xff\xff\xff\xffWAVE`, 'latin1'));
        b.set(rest, 12);
        check(b);
      }),
      { numRuns: 2000 },
    );
  });

  it('valid files with mutated bytes and sizes, including 4 GB claims (5,000 cases)', () => {
    const mutation = fc.record({
      seed: fc.nat(seeds.length - 1),
      edits: fc.array(fc.tuple(fc.nat(80), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      size32: fc.option(fc.tuple(fc.constantFrom(4, 16, 40, 36, 24), fc.constantFrom(0, 1, 0x7fffffff, 0xfffffff0, 0xffffffff)), { nil: undefined }),
      cut: fc.option(fc.nat(200), { nil: undefined }),
    });
    fc.assert(
      fc.property(mutation, ({ seed, edits, size32, cut }) => {
        const b = Buffer.from(seeds[seed]!);
        for (const [at, v] of edits) if (at < b.length) b[at] = v;
        if (size32) b.writeUInt32LE(size32[1], size32[0]);
        check(cut === undefined ? b : b.subarray(0, Math.min(b.length, cut)));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('readWavHeader: encodings', () => {
  /** The encoding's name by its rule (wav-header.ts encodingOf), written out again as the oracle. */
  const oracle = (tag: number, bytes: number, le: boolean): string => {
    const endian = le ? 'le' : 'be';
    if (tag === 1) return bytes === 1 ? 'pcm_u8' : `pcm_s${bytes * 8}${endian}`;
    if (tag === 3) return `pcm_f${bytes * 8}${endian}`;
    if (tag === 6) return 'pcm_alaw';
    if (tag === 7) return 'pcm_mulaw';
    return `format_0x${tag.toString(16).padStart(4, '0')}`;
  };
  /** A 44-byte header: RIFF or RIFX, a 16-byte fmt chunk, an empty data chunk. */
  const header = (tag: number, channels: number, blockAlign: number, le: boolean): Uint8Array => {
    const b = Buffer.alloc(44);
    const u16 = (v: number, at: number) => (le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
    const u32 = (v: number, at: number) => (le ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
    b.write(le ? 'RIFF' : 'RIFX', 0, 'latin1');
    u32(36, 4);
    b.write('WAVEfmt ', 8, 'latin1');
    u32(16, 16);
    u16(tag, 20);
    u16(channels, 22);
    u32(16000, 24);
    u32(16000 * blockAlign, 28);
    u16(blockAlign, 32);
    u16((blockAlign / channels) * 8, 34);
    b.write('data', 36, 'latin1');
    u32(0, 40);
    return b;
  };

  it('names every tag, sample size and byte order by the rule, however often and in whatever order asked (property, 5,000 headers)', () => {
    const tag = fc.oneof(
      fc.constantFrom(1, 3, 6, 7, 0xfffe - 1),
      fc.integer({ min: 0, max: 0xffff }).filter((t) => t !== 0xfffe),
    );
    fc.assert(
      fc.property(tag, fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 32 }), fc.boolean(), (t, channels, bytes, le) => {
        const h = readWavHeader(new BufferSource(header(t, channels, channels * bytes, le)));
        expect(h.format?.encoding).toBe(oracle(t, bytes, le));
      }),
      { numRuns: 5000 },
    );
  });
});
