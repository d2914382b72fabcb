import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_WINDOW, eligible, problems, RULES } from '../../src/domain/reference-clips.ts';
import type { SummaryRow } from '../../src/domain/file-result.ts';

/** A number or null, near every bound a rule has as often as anywhere else (NaN and infinities included). */
const level = (...bounds: number[]) => fc.oneof(fc.constant(null), fc.double(), fc.constantFrom(...bounds.flatMap((b) => [b, b - 1e-9, b + 1e-9, b - 1, b + 1])));

const row: fc.Arbitrary<SummaryRow> = fc.record({
  path: fc.constant('a/b.wav'),
  subset: fc.constant(null),
  speaker_id: fc.constant('1'),
  sample_rate: fc.constant(24000),
  duration_s: level(DEFAULT_WINDOW.min, DEFAULT_WINDOW.max, 3, 20),
  bytes: fc.constant(1000),
  snr_db: level(0, 40),
  clipped_samples: fc.oneof(fc.constant(null), fc.constantFrom(0, 1, 7)),
  leading_silence_s: level(0, RULES.maxSilenceS / 2, RULES.maxSilenceS),
  trailing_silence_s: level(0, RULES.maxSilenceS / 2, RULES.maxSilenceS),
  peak_dbfs: level(RULES.maxPeakDbfs, -20),
  rms_dbfs: level(RULES.minRmsDbfs, -20),
  text_normalized: fc.constantFrom(null, '', 'hello'),
  text_original: fc.constantFrom(null, '', 'Hello.'),
  error: fc.oneof(fc.constant(null), fc.constant({ code: 'TRUNCATED' as const, detail: 'x' })),
});

const clean: SummaryRow = {
  path: 'a/b.wav',
  subset: null,
  speaker_id: '1',
  sample_rate: 24000,
  duration_s: 8,
  bytes: 1000,
  snr_db: 30,
  clipped_samples: 0,
  leading_silence_s: 0.2,
  trailing_silence_s: 0.3,
  peak_dbfs: -3,
  rms_dbfs: -20,
  text_normalized: 'hello',
  text_original: null,
  error: null,
};

describe('eligible', () => {
  it('is true exactly when problems() finds nothing, header scans and full ones (property, 20,000 rows)', () => {
    fc.assert(
      fc.property(row, fc.boolean(), (r, header) => {
        expect(eligible(r, DEFAULT_WINDOW, header)).toBe(problems(r, DEFAULT_WINDOW, header).length === 0);
      }),
      { numRuns: 20_000 },
    );
  });

  it('agrees on rows one or two fields away from a clean clip, where each rule alone decides (property)', () => {
    fc.assert(
      fc.property(
        row,
        fc.subarray(['duration_s', 'clipped_samples', 'leading_silence_s', 'trailing_silence_s', 'peak_dbfs', 'rms_dbfs', 'text_normalized', 'error'] as const, { maxLength: 2 }),
        fc.boolean(),
        (r, keys, header) => {
          const near: SummaryRow = { ...clean };
          for (const k of keys) Object.assign(near, { [k]: r[k] });
          expect(eligible(near, DEFAULT_WINDOW, header)).toBe(problems(near, DEFAULT_WINDOW, header).length === 0);
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('takes a clean 8 s clip with a transcript, and refuses it for each problem alone', () => {
    expect(eligible(clean, DEFAULT_WINDOW, false)).toBe(true);
    for (const change of [
      { duration_s: 13 },
      { clipped_samples: 2 },
      { peak_dbfs: -0.5 },
      { rms_dbfs: -45 },
      { trailing_silence_s: 0.9 },
      { text_normalized: '' },
      { rms_dbfs: null },
    ]) {
      expect(eligible({ ...clean, ...change }, DEFAULT_WINDOW, false), JSON.stringify(change)).toBe(false);
    }
    // Header only: the levels are unknown and not asked for.
    expect(eligible({ ...clean, rms_dbfs: null, peak_dbfs: null, clipped_samples: null }, DEFAULT_WINDOW, true)).toBe(true);
  });
});
