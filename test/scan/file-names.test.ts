import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fsPath, nameToText, textToBytes } from '../../src/scan/file-names.ts';

const bytes = (s: string) => Buffer.from(s, 'latin1');

describe('file names: bytes ↔ result paths', () => {
  it('leaves valid UTF-8 without backslashes as it is', () => {
    for (const name of ['84_121123_000007_000001.wav', 'café.wav', 'ü/日本語.wav', 'a\uFFFDb.wav']) {
      expect(nameToText(Buffer.from(name, 'utf8'))).toBe(name);
      expect(fsPath('/r', name)).toBe(`/r/${name}`);
    }
  });

  it('gives two names that differ only in invalid bytes two paths (caf\\xe9 vs caf\\xe8)', () => {
    const a = nameToText(bytes('caf\xe9.wav'));
    const b = nameToText(bytes('caf\xe8.wav'));
    expect(a).toBe('caf\\xe9.wav');
    expect(b).toBe('caf\\xe8.wav');
    // A literal backslash in a valid name is escaped, so it cannot imitate an escape.
    expect(nameToText(Buffer.from('caf\\xe9.wav', 'utf8'))).toBe('caf\\\\xe9.wav');
  });

  it('escapes surrogates, overlongs and truncated sequences byte by byte', () => {
    expect(nameToText(Buffer.from([0xed, 0xa0, 0x80]))).toBe('\\xed\\xa0\\x80');
    expect(nameToText(Buffer.from([0xc0, 0xaf]))).toBe('\\xc0\\xaf');
    expect(nameToText(Buffer.from([0x61, 0xe2, 0x82]))).toBe('a\\xe2\\x82');
    expect(nameToText(Buffer.from([0xf4, 0x90, 0x80, 0x80]))).toBe('\\xf4\\x90\\x80\\x80');
  });

  it('is injective and reversible on any bytes (property, 5,000 cases)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (x, y) => {
        const tx = nameToText(x);
        expect(textToBytes(tx)!.equals(Buffer.from(x))).toBe(true);
        if (!Buffer.from(x).equals(Buffer.from(y))) expect(nameToText(y)).not.toBe(tx);
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses text no name maps to', () => {
    for (const t of ['a\\', 'a\\q', 'a\\x4', 'a\\x41' /* 0x41 is valid UTF-8: its canonical form is "a" */, 'a\\xZZ']) expect(textToBytes(t)).toBeNull();
    expect(() => fsPath('/r', 'a\\q')).toThrow();
  });
});
