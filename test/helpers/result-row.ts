import type { FileResult } from '../../src/domain/file-result.ts';
import { blankResult } from '../../src/scan/analyze-file.ts';

/** A good row of a 1 s, 16 kHz, 16-bit mono clip at `path` (ids as its path gives them), with `extra` on top. */
export function clipRow(path: string, extra: Partial<FileResult> = {}): FileResult {
  return { ...blankResult(path), sample_rate: 16000, channels: 1, bits_per_sample: 16, encoding: 'pcm_s16le', frames: 16000, duration_s: 1, bytes: 32044, ...extra };
}
