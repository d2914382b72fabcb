import { describe, expect, it } from 'vitest';
import { gauss, mulberry32, SPEAKERS, speech, TOLERANCE_DB, TRUE_SNRS, withNoise } from '../helpers/speech.ts';
import { EnergyHistogram, estimateSnrDb, SNR_CAP_DB, SNR_FLOOR_DB, SNR_MIN_FRAMES, snrFrameLength } from '../../src/scan/snr.ts';

const SR = 24_000;

/**
 * What the host does: quantise to int16 (as the file stores it), normalise by 32768, and take the
 * mean square of consecutive non-overlapping frames of snrFrameLength(sampleRate) samples, dropping
 * the last partial frame.
 */
function frameEnergies(x: Float64Array): Float64Array {
  const len = snrFrameLength(SR);
  const out = new Float64Array(Math.floor(x.length / len));
  for (let f = 0; f < out.length; f++) {
    let sumSq = 0;
    for (let i = f * len; i < (f + 1) * len; i++) {
      const v = Math.max(-32768, Math.min(32767, Math.round(x[i]! * 32768)));
      sumSq += v * v;
    }
    out[f] = sumSq / len / (32768 * 32768);
  }
  return out;
}

const estimate = (x: Float64Array): number | null => {
  const e = frameEnergies(x);
  return estimateSnrDb(e, e.length);
};

describe('estimateSnrDb (frame-energy noise floor)', () => {
  it('reads white noise at 5–30 dB within ±4 dB, in order, on six synthetic speakers', () => {
    const rows: string[] = [];
    let maxError = 0;
    for (const s of SPEAKERS) {
      const clean = speech(s);
      const got = TRUE_SNRS.map((snr) => estimate(withNoise(clean, snr, s.seed * 7919)));
      rows.push(`speaker ${s.seed} (${s.durationS} s, pauses ~${Math.round(s.pauseFraction * 100)}%): ${TRUE_SNRS.map((snr, i) => `${snr}→${got[i]}`).join('  ')}`);
      got.forEach((g, i) => {
        expect(g, `speaker ${s.seed} at ${TRUE_SNRS[i]} dB`).not.toBeNull();
        const err = Math.abs(g! - TRUE_SNRS[i]!);
        maxError = Math.max(maxError, err);
        expect(err, `speaker ${s.seed} at ${TRUE_SNRS[i]} dB read ${g}`).toBeLessThanOrEqual(TOLERANCE_DB);
        if (i > 0) expect(g!, `speaker ${s.seed}: ${TRUE_SNRS[i]} dB must read above ${TRUE_SNRS[i - 1]} dB`).toBeGreaterThan(got[i - 1]!);
      });
    }
    console.log(`SNR estimates (true→estimated dB):\n${rows.join('\n')}\nmax |error| ${maxError.toFixed(1)} dB`);
  });

  it('clean speech (pauses of digital silence, or a noise floor 40 dB down) reads ≥ 35 dB', () => {
    const rows: string[] = [];
    for (const s of SPEAKERS) {
      const clean = speech(s);
      const [silent, quiet] = [estimate(clean), estimate(withNoise(clean, 40, s.seed))];
      rows.push(`speaker ${s.seed}: clean→${silent}  40→${quiet}`);
      expect(silent, `speaker ${s.seed}, clean`).toBeGreaterThanOrEqual(35);
      expect(quiet, `speaker ${s.seed}, 40 dB`).toBeGreaterThanOrEqual(35);
    }
    console.log(rows.join('\n'));
  });

  it('speech over digital silence reads the cap; a file of digital silence has no SNR (null)', () => {
    const e = new Float64Array(200);
    expect(estimateSnrDb(e, e.length)).toBeNull();
    for (let i = 0; i < 150; i++) e[i] = 0.01;
    expect(estimateSnrDb(e, e.length)).toBe(SNR_CAP_DB);
  });

  it('pure noise reads ≤ 5 dB (the floor)', () => {
    const rand = mulberry32(42);
    const noise = Float64Array.from({ length: 3 * SR }, () => 0.05 * gauss(rand));
    const got = estimate(noise);
    expect(got).toBeLessThanOrEqual(5);
    expect(got).toBe(SNR_FLOOR_DB);
  });

  it('does not depend on the level, and reads only the first `count` energies', () => {
    const e = frameEnergies(withNoise(speech(SPEAKERS[2]!), 15, 9));
    const got = estimateSnrDb(e, e.length);
    expect(
      estimateSnrDb(
        e.map((v) => v * 1e-4),
        e.length,
      ),
    ).toBeCloseTo(got!, 1);
    const padded = new Float64Array(e.length + 500).fill(1);
    padded.set(e);
    expect(estimateSnrDb(padded, e.length)).toBe(got);
  });

  it(`needs ${SNR_MIN_FRAMES} frames; skips non-finite energies`, () => {
    const e = frameEnergies(withNoise(speech(SPEAKERS[0]!), 20, 3));
    expect(estimateSnrDb(e, SNR_MIN_FRAMES - 1)).toBeNull();
    expect(estimateSnrDb(e, SNR_MIN_FRAMES)).not.toBeNull();
    const broken = Float64Array.from([...e, NaN, Infinity]);
    expect(estimateSnrDb(broken, broken.length)).toBe(estimateSnrDb(e, e.length));
  });

  it('frames are 20 ms: 480 samples at 24 kHz, 320 at 16 kHz, 441 at 22.05 kHz', () => {
    expect([snrFrameLength(24_000), snrFrameLength(16_000), snrFrameLength(22_050)]).toEqual([480, 320, 441]);
  });

  it('the bounded-memory histogram (files of hours) agrees with the exact estimate within 0.1 dB', () => {
    for (const sp of SPEAKERS) {
      for (const snr of [...TRUE_SNRS, 40]) {
        const e = frameEnergies(withNoise(speech(sp), snr, sp.seed));
        const h = new EnergyHistogram();
        for (const v of e) h.add(v);
        expect(Math.abs(h.estimate()! - estimateSnrDb(e, e.length)!), `speaker ${sp.seed} at ${snr} dB`).toBeLessThanOrEqual(0.1);
      }
    }
    const silent = new EnergyHistogram();
    for (let i = 0; i < 100; i++) silent.add(i < 60 ? 0.01 : 0);
    expect(silent.estimate()).toBe(SNR_CAP_DB);
  });
});
