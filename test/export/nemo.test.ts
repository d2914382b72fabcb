import { describe, expect, it } from 'vitest';
import type { FileResult } from '../../src/domain/file-result.ts';
import { nemo } from '../../src/export/nemo.ts';
import type { ExportContext } from '../../src/export/types.ts';
import { clipRow } from '../helpers/result-row.ts';

/** The NeMo manifest over rows that change between its two passes, as a running task's do. */

const row = (speaker: string, n: number): FileResult =>
  clipRow(`dev-clean/${speaker}/1/${speaker}_1_${String(n).padStart(6, '0')}_000000.wav`, { text_normalized: `clip ${n}`, text_original: `Clip ${n}.` });

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
