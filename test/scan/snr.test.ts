import { describe, expect, it } from 'vitest';
import { estimateSnrDb, SNR_CAP_DB, SNR_FLOOR_DB, SNR_MIN_FRAMES, snrFrameLength } from '../../src/scan/snr.ts';

const SR = 24_000;

/** Seeded PRNG (mulberry32), so that every run hears the same speech and the same noise. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal deviate (Box–Muller). */
function gauss(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

interface Speaker {
  seed: number;
  durationS: number;
  /** Mean pitch, Hz. */
  f0: number;
  /** Mean share of the clip spent in pauses between words. */
  pauseFraction: number;
  /** Centres of the first two formants, Hz. */
  f1: number;
  f2: number;
}

/**
 * Speech-like audio: words of 1–3 syllables (100–300 ms each, ±6 dB apart), 85% voiced — a glottal
 * pulse train whose pitch glides down over the syllable — and 15% fricative noise, through two formant
 * resonators that move from syllable to syllable and ring on into the pauses. Each syllable rises fast
 * and decays slowly to −20 dB at the join with the next; words start and stop with 15 ms ramps and are
 * separated by pauses that take `pauseFraction` of the time on average. Peak normalised to −6 dBFS.
 */
function speech(s: Speaker): Float64Array {
  const rand = mulberry32(s.seed);
  const n = Math.round(s.durationS * SR);
  const x = new Float64Array(n);
  const ramp = 0.015 * SR;
  const r1 = Math.exp((-Math.PI * 90) / SR); // formant bandwidths 90 and 140 Hz
  const r2 = Math.exp((-Math.PI * 140) / SR);
  let a1 = 0;
  let b1 = 0;
  let y1 = 0;
  let y2 = 0;
  let z1 = 0;
  let z2 = 0;
  const put = (i: number, e: number): void => {
    const y = e + a1 * y1 - r1 * r1 * y2;
    y2 = y1;
    y1 = y;
    const z = e + b1 * z1 - r2 * r2 * z2;
    z2 = z1;
    z1 = z;
    x[i] = y + 0.5 * z;
  };
  let phase = 0;
  let t = 0;
  while (t < n) {
    const lengths = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => Math.round((0.1 + 0.2 * rand()) * SR));
    const wordLen = lengths.reduce((p, q) => p + q, 0);
    const wordStart = t;
    for (const len of lengths) {
      const voiced = rand() > 0.15;
      const amp = 10 ** ((rand() * 12 - 6) / 20);
      const f0 = s.f0 * (0.8 + 0.4 * rand());
      a1 = 2 * r1 * Math.cos((2 * Math.PI * s.f1 * (0.7 + 0.6 * rand())) / SR);
      b1 = 2 * r2 * Math.cos((2 * Math.PI * s.f2 * (0.75 + 0.5 * rand())) / SR);
      for (let j = 0; j < len && t < n; j++, t++) {
        const u = j / len;
        const shape = u < 0.3 ? Math.sin((Math.PI / 2) * (u / 0.3)) ** 2 : Math.cos((Math.PI / 2) * ((u - 0.3) / 0.7)) ** 2;
        const edge = Math.min(1, (t - wordStart) / ramp, (wordStart + wordLen - t) / ramp);
        const env = amp * edge * (0.1 + 0.9 * shape);
        let e = 0;
        if (voiced) {
          phase += (f0 * (1.1 - 0.2 * u)) / SR;
          if (phase >= 1) {
            phase -= 1;
            e = env;
          }
        } else e = env * 0.3 * (rand() * 2 - 1);
        put(t, e);
      }
    }
    const meanWord = 2 * 0.2 * SR;
    const pause = Math.round(((meanWord * s.pauseFraction) / (1 - s.pauseFraction)) * (0.4 + 1.2 * rand()));
    for (let j = 0; j < pause && t < n; j++, t++) put(t, 0);
  }
  let peak = 0;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  for (let i = 0; i < n; i++) x[i] = (x[i]! * 0.5) / peak;
  return x;
}

const meanPower = (x: Float64Array): number => x.reduce((p, v) => p + v * v, 0) / x.length;

/** `clean` plus white Gaussian noise whose mean power is exactly meanPower(clean) / 10^(snr/10). */
function withNoise(clean: Float64Array, snrDb: number, seed: number): Float64Array {
  const rand = mulberry32(seed);
  const noise = Float64Array.from(clean, () => gauss(rand));
  const scale = Math.sqrt(meanPower(clean) / 10 ** (snrDb / 10) / meanPower(noise));
  return clean.map((v, i) => v + scale * noise[i]!);
}

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

const SPEAKERS: Speaker[] = [
  { seed: 1, durationS: 1.5, f0: 120, pauseFraction: 0.12, f1: 600, f2: 1500 },
  { seed: 2, durationS: 4, f0: 210, pauseFraction: 0.1, f1: 750, f2: 1900 },
  { seed: 3, durationS: 9, f0: 160, pauseFraction: 0.2, f1: 550, f2: 1300 },
  { seed: 4, durationS: 15, f0: 105, pauseFraction: 0.07, f1: 500, f2: 1200 },
  { seed: 5, durationS: 2.5, f0: 240, pauseFraction: 0.15, f1: 800, f2: 2100 },
  { seed: 6, durationS: 6, f0: 140, pauseFraction: 0.3, f1: 650, f2: 1600 },
];
const TRUE_SNRS = [5, 10, 15, 20, 30];
const TOLERANCE_DB = 4;

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
    expect(estimateSnrDb(e.map((v) => v * 1e-4), e.length)).toBeCloseTo(got!, 1);
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
});
