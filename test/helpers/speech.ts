import wavefile from 'wavefile';

/** Speech-like test audio with noise at a known SNR, shared by the estimator's tests and the scans that check snr_db end to end. */

/** Seeded PRNG (mulberry32), so that every run hears the same speech and the same noise. */
export function mulberry32(seed: number): () => number {
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
export function gauss(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

export interface Speaker {
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
export function speech(s: Speaker, sampleRate = 24_000): Float64Array {
  const SR = sampleRate;
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

export const meanPower = (x: Float64Array): number => x.reduce((p, v) => p + v * v, 0) / x.length;

/** `clean` plus white Gaussian noise whose mean power is exactly meanPower(clean) / 10^(snr/10). */
export function withNoise(clean: Float64Array, snrDb: number, seed: number): Float64Array {
  const rand = mulberry32(seed);
  const noise = Float64Array.from(clean, () => gauss(rand));
  const scale = Math.sqrt(meanPower(clean) / 10 ** (snrDb / 10) / meanPower(noise));
  return clean.map((v, i) => v + scale * noise[i]!);
}

/** A 16-bit mono WAV of samples in full-scale units (rounded, clipped to the int16 range). */
export function int16Wav(x: Float64Array, sampleRate = 24_000): Buffer {
  const samples = Array.from(x, (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32768))));
  const wav = new wavefile.WaveFile();
  wav.fromScratch(1, sampleRate, '16', samples);
  return Buffer.from(wav.toBuffer());
}

/** Six synthetic speakers, 1.5–15 s, with different pitch, formants and pause shares. */
export const SPEAKERS: Speaker[] = [
  { seed: 1, durationS: 1.5, f0: 120, pauseFraction: 0.12, f1: 600, f2: 1500 },
  { seed: 2, durationS: 4, f0: 210, pauseFraction: 0.1, f1: 750, f2: 1900 },
  { seed: 3, durationS: 9, f0: 160, pauseFraction: 0.2, f1: 550, f2: 1300 },
  { seed: 4, durationS: 15, f0: 105, pauseFraction: 0.07, f1: 500, f2: 1200 },
  { seed: 5, durationS: 2.5, f0: 240, pauseFraction: 0.15, f1: 800, f2: 2100 },
  { seed: 6, durationS: 6, f0: 140, pauseFraction: 0.3, f1: 650, f2: 1600 },
];

/** The SNRs the estimator is held to (API.md: 5–30 dB, ±4 dB, ordered). */
export const TRUE_SNRS = [5, 10, 15, 20, 30];
export const TOLERANCE_DB = 4;
