import type { Analysis, SummaryRow } from '../domain/file-result.ts';
import type { AggregateState } from '../domain/scan-part.ts';

export type { AggregateState } from '../domain/scan-part.ts';
import { compare, DEFAULT_WINDOW, eligible } from '../domain/reference-clips.ts';
import type { ScanSummary } from '../domain/task.ts';
import type { SpeakerRow } from '../store/types.ts';
import type { SpeakerInfo } from './libritts.ts';

interface SpeakerAcc {
  utterances: number;
  failed: number;
  duration: number;
  subsets: Set<string>;
  /** snr_db of the good clips, for the median. */
  snrs: number[];
  /** The best reference clip so far by the default rules (reference-clips.ts). */
  best: SummaryRow | null;
}

const median = (xs: number[]): number | null => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return Math.round((s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2) * 10) / 10;
};

/** Histogram of clip durations: 1 s bins, the last one open-ended (LibriTTS clips are ≤ ~35 s). */
const HIST_BIN_S = 1;
const HIST_BINS = 40;

const inc = (m: Record<string, number>, k: string): void => {
  m[k] = (m[k] ?? 0) + 1;
};

const addInto = (into: Record<string, number>, from: Record<string, number>): void => {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
};

/**
 * Folds results into the task summary and per-speaker rows as they arrive, so finishing a scan
 * needs no pass over all its rows. Parts of a scan each keep one; their states merge.
 */
export class ScanAggregator {
  /** Header-only scans judge reference clips without levels (reference-clips.ts). */
  private readonly header: boolean;
  private utterances = 0;
  private failed = 0;
  private duration = 0;
  private readonly sampleRates: Record<string, number> = {};
  private readonly subsets: Record<string, number> = {};
  private readonly bySpeaker = new Map<string, SpeakerAcc>();
  private readonly durations = new Array<number>(HIST_BINS).fill(0);

  constructor(analysis: Analysis) {
    this.header = analysis === 'header';
  }

  private speaker(id: string): SpeakerAcc {
    let s = this.bySpeaker.get(id);
    if (!s) this.bySpeaker.set(id, (s = { utterances: 0, failed: 0, duration: 0, subsets: new Set(), snrs: [], best: null }));
    return s;
  }

  private offer(s: SpeakerAcc, r: SummaryRow | null): void {
    if (!r || !eligible(r, DEFAULT_WINDOW, this.header)) return;
    if (!s.best || compare(r, s.best, DEFAULT_WINDOW, this.header) < 0) s.best = r;
  }

  add(rows: Iterable<SummaryRow>): void {
    for (const r of rows) {
      if (r.error) this.failed++;
      else this.utterances++;
      if (r.subset) inc(this.subsets, r.subset);
      if (!r.error && r.sample_rate) inc(this.sampleRates, String(r.sample_rate));
      const dur = !r.error && r.duration_s ? r.duration_s : 0;
      this.duration += dur;
      if (!r.error && r.duration_s !== null) this.durations[Math.min(HIST_BINS - 1, Math.floor(r.duration_s / HIST_BIN_S))]!++;
      if (!r.speaker_id) continue;
      const s = this.speaker(r.speaker_id);
      if (r.error) s.failed++;
      else s.utterances++;
      s.duration += dur;
      if (r.subset) s.subsets.add(r.subset);
      if (!r.error && r.snr_db !== null) s.snrs.push(r.snr_db);
      this.offer(s, r);
    }
  }

  toState(): AggregateState {
    return {
      utterances: this.utterances,
      failed: this.failed,
      duration: this.duration,
      sampleRates: { ...this.sampleRates },
      subsets: { ...this.subsets },
      durations: [...this.durations],
      speakers: [...this.bySpeaker].map(([id, s]) => [
        id,
        { utterances: s.utterances, failed: s.failed, duration: s.duration, subsets: [...s.subsets], snrs: [...s.snrs], best: s.best },
      ]),
    };
  }

  /** Adds another part's state to this one. */
  merge(state: AggregateState): this {
    this.utterances += state.utterances;
    this.failed += state.failed;
    this.duration += state.duration;
    addInto(this.sampleRates, state.sampleRates);
    addInto(this.subsets, state.subsets);
    state.durations.forEach((n, i) => (this.durations[i] = (this.durations[i] ?? 0) + n));
    for (const [id, s] of state.speakers) {
      const acc = this.speaker(id);
      acc.utterances += s.utterances;
      acc.failed += s.failed;
      acc.duration += s.duration;
      for (const sub of s.subsets) acc.subsets.add(sub);
      for (const x of s.snrs) acc.snrs.push(x);
      this.offer(acc, s.best);
    }
    return this;
  }

  /** The task's summary; `filesReused` is counted by the parts, not from the rows. */
  summary(filesReused = 0): ScanSummary {
    // In the schema's key order (domain/task.ts), which every stored snapshot is read back in: a
    // live event and its replay are then the same bytes.
    return {
      utterances: this.utterances,
      failed: this.failed,
      speakers: this.bySpeaker.size,
      duration_s: Math.round(this.duration * 1000) / 1000,
      sample_rates: { ...this.sampleRates },
      subsets: { ...this.subsets },
      files_reused: filesReused,
      duration_histogram: { bin_s: HIST_BIN_S, counts: this.durations.slice(0, lastNonZero(this.durations) + 1) },
    };
  }

  speakers(info: Map<string, SpeakerInfo>): SpeakerRow[] {
    return [...this.bySpeaker].map(([id, s]) => ({
      speaker_id: id,
      name: info.get(id)?.name ?? null,
      gender: info.get(id)?.gender ?? null,
      subsets: [...s.subsets].sort(),
      utterances: s.utterances,
      failed: s.failed,
      duration_s: Math.round(s.duration * 1000) / 1000,
      median_snr_db: median(s.snrs),
      reference_clip: s.best?.path ?? null,
    }));
  }
}

function lastNonZero(a: number[]): number {
  for (let i = a.length - 1; i >= 0; i--) if (a[i]) return i;
  return -1;
}
