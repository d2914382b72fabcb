import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRacy, mtimeText } from '../../src/scan/racy.ts';

/** What a row recorded before mtimeText, from a BigInt: the oracle. */
const oracle = (sec: number, nsec: number): string | null => {
  const ns = BigInt(sec) * 1_000_000_000n + BigInt(nsec);
  return isRacy(ns) ? null : String(ns);
};

describe('mtimeText', () => {
  it('gives what the BigInt way gives, far from now, around now, before 1970 and in the future (property)', () => {
    const now = Math.floor(Date.now() / 1000);
    const sec = fc.oneof(fc.integer({ min: -(2 ** 34), max: 2 ** 34 }), fc.integer({ min: now - 30, max: now + 30 }), fc.constantFrom(0, 1, -1, now - 10, now - 11));
    fc.assert(
      fc.property(sec, fc.oneof(fc.integer({ min: 0, max: 999_999_999 }), fc.constantFrom(0, 1, 999_999_999)), (s, n) => {
        expect(mtimeText(s, n)).toBe(oracle(s, n));
      }),
      { numRuns: 20_000 },
    );
  });

  it('is null for a file modified just now or in the future, and keeps every nanosecond digit', () => {
    const now = Math.floor(Date.now() / 1000);
    expect(mtimeText(now, 5)).toBeNull();
    expect(mtimeText(now + 3600, 0)).toBeNull();
    expect(mtimeText(1_700_000_000, 7)).toBe('1700000000000000007');
    expect(mtimeText(5, 123)).toBe('5000000123');
  });
});
