import type { FileResult, SummaryRow } from './file-result.ts';

/**
 * Which of a speaker's clips to clone a voice from, and in what order (API.md "scan-speakers/
 * :task_id/:speaker_id"). Voice-cloning models (XTTS, F5-TTS and the like) want ~6–12 s of clean
 * speech: no clipping, no long silences, a transcript. Pure functions over result rows, shared by
 * the scan's running summary (each speaker's `reference_clip`) and the speaker route.
 */

export interface ClipWindow {
  /** Seconds, inclusive. */
  min: number;
  max: number;
}

export const DEFAULT_WINDOW: ClipWindow = { min: 6, max: 12 };

/** The levels a clip must keep (API.md). */
export const RULES = { maxPeakDbfs: -1, minRmsDbfs: -40, maxSilenceS: 1 } as const;

const fmt = (x: number): string => String(Math.round(x * 100) / 100);

/**
 * What keeps a clip from being a reference, in words; empty when it is eligible. `header`:
 * the scan read headers only, so the levels are unknown and only the file, the transcript and
 * the duration are judged.
 */
export function problems(r: SummaryRow, w: ClipWindow, header: boolean): string[] {
  const out: string[] = [];
  if (r.error) out.push(`the file has an error (${r.error.code})`);
  if (!r.text_normalized && !r.text_original) out.push('no transcript');
  if (r.duration_s === null) out.push('no duration');
  else if (r.duration_s < w.min || r.duration_s > w.max) out.push(`duration ${fmt(r.duration_s)} s is outside ${fmt(w.min)}–${fmt(w.max)} s`);
  if (header) return out;
  if (r.clipped_samples === null || r.peak_dbfs === null || r.rms_dbfs === null) {
    out.push('no signal statistics');
    return out;
  }
  if (r.clipped_samples > 0) out.push(`${r.clipped_samples} clipped samples`);
  if (r.peak_dbfs > RULES.maxPeakDbfs) out.push(`peak ${fmt(r.peak_dbfs)} dBFS is above ${RULES.maxPeakDbfs} dBFS`);
  if (r.rms_dbfs < RULES.minRmsDbfs) out.push(`RMS ${fmt(r.rms_dbfs)} dBFS is below ${RULES.minRmsDbfs} dBFS`);
  const silence = (r.leading_silence_s ?? 0) + (r.trailing_silence_s ?? 0);
  if (silence > RULES.maxSilenceS) out.push(`${fmt(silence)} s of leading and trailing silence (more than ${RULES.maxSilenceS} s)`);
  return out;
}

/**
 * Whether `problems` finds nothing, without putting any problem into words: the scan's running
 * summary asks this of every row, and the words cost ~400 bytes and ~0.3 µs a row of a header
 * scan (nearly every LibriTTS clip is outside the 6–12 s window). The same tests as `problems`,
 * in the same order (a property test holds the two together).
 */
export function eligible(r: SummaryRow, w: ClipWindow, header: boolean): boolean {
  if (r.error || (!r.text_normalized && !r.text_original)) return false;
  if (r.duration_s === null || r.duration_s < w.min || r.duration_s > w.max) return false;
  if (header) return true;
  if (r.clipped_samples === null || r.peak_dbfs === null || r.rms_dbfs === null) return false;
  if (r.clipped_samples > 0 || r.peak_dbfs > RULES.maxPeakDbfs || r.rms_dbfs < RULES.minRmsDbfs) return false;
  return !((r.leading_silence_s ?? 0) + (r.trailing_silence_s ?? 0) > RULES.maxSilenceS);
}

/**
 * The score of a clip, 0–1 (README "Reference clips"): with full analysis the SNR, 0 dB → 0 and
 * 40 dB or more → 1, linear between; header only, the duration over the window's maximum.
 */
export function score(r: FileResult, w: ClipWindow, header: boolean): number {
  const x = header ? (r.duration_s ?? 0) / w.max : (r.snr_db ?? 0) / 40;
  return Math.round(Math.min(1, Math.max(0, x)) * 100) / 100;
}

/**
 * Best first: with full analysis the higher snr_db (clips without one last), then the duration
 * nearer the window's middle; header only, the longer duration; then by path, so the order is
 * total.
 */
export function compare(a: SummaryRow, b: SummaryRow, w: ClipWindow, header: boolean): number {
  if (!header) {
    const sa = a.snr_db ?? -Infinity;
    const sb = b.snr_db ?? -Infinity;
    if (sa !== sb) return sb - sa;
    const mid = (w.min + w.max) / 2;
    const da = Math.abs((a.duration_s ?? Infinity) - mid);
    const db = Math.abs((b.duration_s ?? Infinity) - mid);
    if (da !== db) return da - db;
  } else {
    const da = a.duration_s ?? -Infinity;
    const db = b.duration_s ?? -Infinity;
    if (da !== db) return db - da;
  }
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

export interface Pick {
  row: FileResult;
  score: number;
  eligible: boolean;
  /** Why it is not eligible (only when it is not). */
  why: string | null;
}

/**
 * The `n` best clips of a speaker's rows. When none is eligible, the closest: fewest problems
 * first, then the same order, each with `eligible: false` and why.
 */
export function pickReferences(rows: Iterable<FileResult>, n: number, w: ClipWindow, header: boolean): Pick[] {
  const judged = [...rows].map((row) => ({ row, why: problems(row, w, header) }));
  const fit = judged.filter((j) => j.why.length === 0);
  if (fit.length) {
    return fit
      .sort((a, b) => compare(a.row, b.row, w, header))
      .slice(0, n)
      .map((j) => ({ row: j.row, score: score(j.row, w, header), eligible: true, why: null }));
  }
  return judged
    .sort((a, b) => a.why.length - b.why.length || compare(a.row, b.row, w, header))
    .slice(0, n)
    .map((j) => ({ row: j.row, score: score(j.row, w, header), eligible: false, why: j.why.join('; ') }));
}
