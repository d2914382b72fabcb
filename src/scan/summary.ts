import type { SpeakerRow } from '../store/types.ts';
import type { ScanSummary } from '../tasks/types.ts';
import type { SpeakerInfo } from './libritts.ts';
import type { FileResult } from './types.ts';

interface SpeakerAcc {
  utterances: number;
  failed: number;
  duration: number;
  subsets: Set<string>;
}

const inc = (m: Record<string, number>, k: string): void => {
  m[k] = (m[k] ?? 0) + 1;
};

/**
 * Folds results into the task summary and per-speaker rows as they arrive, so finishing a scan
 * needs no pass over all its rows.
 */
export class ScanAggregator {
  private utterances = 0;
  private failed = 0;
  private duration = 0;
  private readonly sampleRates: Record<string, number> = {};
  private readonly subsets: Record<string, number> = {};
  private readonly bySpeaker = new Map<string, SpeakerAcc>();

  add(rows: Iterable<FileResult>): void {
    for (const r of rows) {
      if (r.error) this.failed++;
      else this.utterances++;
      if (r.subset) inc(this.subsets, r.subset);
      if (!r.error && r.sample_rate) inc(this.sampleRates, String(r.sample_rate));
      const dur = !r.error && r.duration_s ? r.duration_s : 0;
      this.duration += dur;
      if (!r.speaker_id) continue;
      let s = this.bySpeaker.get(r.speaker_id);
      if (!s) this.bySpeaker.set(r.speaker_id, (s = { utterances: 0, failed: 0, duration: 0, subsets: new Set() }));
      if (r.error) s.failed++;
      else s.utterances++;
      s.duration += dur;
      if (r.subset) s.subsets.add(r.subset);
    }
  }

  summary(): ScanSummary {
    return {
      utterances: this.utterances,
      failed: this.failed,
      speakers: this.bySpeaker.size,
      duration_s: Math.round(this.duration * 1000) / 1000,
      sample_rates: { ...this.sampleRates },
      subsets: { ...this.subsets },
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
    }));
  }
}
