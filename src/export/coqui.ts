import { clips } from './clips.ts';
import { cleanText, LineBuffer } from './text.ts';
import type { ExportFormat } from './types.ts';

/**
 * Coqui TTS's multi-speaker `coqui` formatter reads this with pandas (`sep="|"`), whose CSV
 * quoting would take a field that starts with `"` for a quoted one: a field holding `"` is
 * quoted, its quotes doubled, and pandas gives the text back as it was.
 */
const field = (s: string): string => (s.includes('"') ? `"${s.replace(/"/g, '""')}"` : s);

/** Coqui `metadata.csv`: header `audio_file|text|speaker_name`, `audio_file` relative to the scanned root. */
export const coqui: ExportFormat = {
  name: 'coqui',
  contentType: 'text/csv; charset=utf-8',
  filename: (id) => `${id}-coqui-metadata.csv`,
  async write(ctx, out) {
    const buf = new LineBuffer(out);
    await buf.add('audio_file|text|speaker_name\n');
    for await (const c of clips(ctx, { pipe: true })) {
      if (out.aborted) return;
      const text = cleanText(c.text, { pipe: true });
      // A transcript of nothing but `|` is empty once they go, which pandas reads as NaN.
      if (!text) continue;
      const speaker = cleanText(c.row.speaker_id ?? 'unknown', { pipe: true });
      await buf.add(`${field(c.path)}|${field(text)}|${field(speaker)}\n`);
    }
    await buf.flush();
  },
};
