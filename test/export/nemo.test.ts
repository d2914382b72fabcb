import { describe, expect, it } from 'vitest';
import type { FileResult } from '../../src/domain/file-result.ts';
import { nemo } from '../../src/export/nemo.ts';
import type { ExportContext } from '../../src/export/types.ts';

/** The NeMo manifest over rows that change between its two passes, as a running task's do. */

const row = (speaker: string, n: number): FileResult => ({
  path: `dev-clean/${speaker}/1/${speaker}_1_${String(n).padStart(6, '0')}_000000.wav`,
  subset: 'dev-clean',
  speaker_id: speaker,
  chapter_id: '1',
  utterance_id: `${speaker}_1_${String(n).padStart(6, '0')}_000000`,
  text_normalized: `clip ${n}`,
  text_original: `Clip ${n}.`,
  sample_rate: 16000,
  channels: 1,
  bits_per_sample: 16,
  encoding: 'pcm_s16le',
  frames: 16000,
  duration_s: 1,
  bytes: 32044,
  peak_dbfs: null,
  rms_dbfs: null,
  clipped_samples: null,
  dc_offset: null,
  leading_silence_s: null,
  trailing_silence_s: null,
  snr_db: null,
  error: null,
});

describe('nemo', () => {
  it('gives every line an integer speaker when speakers first appear between its passes (a task still scanning)', async () => {
    const passes = [
      [row('84', 1), row('19', 2)],
      [row('84', 1), row('19', 2), row('7', 3), row('1034', 4), row('7', 5)],
    ];
    let pass = 0;
    const ctx: ExportContext = {
      taskId: 't',
      analysis: 'header',
      root: '/data',
      text: 'normalized',
      speakers: new Map(),
      rows: async function* () {
        yield* passes[Math.min(pass++, passes.length - 1)]!;
      },
      tempDir: async () => '/nonexistent',
    };
    let text = '';
    await nemo.write(ctx, { write: async (c) => void (text += String(c)), aborted: false });
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { speaker: number; speaker_id: string });
    expect(lines.map((l) => [l.speaker_id, l.speaker])).toEqual([
      ['84', 1],
      ['19', 0],
      ['7', 2],
      ['1034', 3],
      ['7', 2],
    ]);
  });
});
