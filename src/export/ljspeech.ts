import { clips } from './clips.ts';
import { cleanText, LineBuffer } from './text.ts';
import type { ExportFormat } from './types.ts';

/**
 * LJSpeech `metadata.csv`: no header, `id|text|normalized_text`, one line per clip; readers split
 * on `|` and take the third column (Coqui's `ljspeech` formatter), which carries the chosen
 * transcript; the second holds the original. They look for the audio at `wavs/<id>.wav`.
 */
export const ljspeech: ExportFormat = {
  name: 'ljspeech',
  contentType: 'text/csv; charset=utf-8',
  filename: (id) => `${id}-ljspeech-metadata.csv`,
  async write(ctx, out) {
    const buf = new LineBuffer(out);
    for await (const c of clips(ctx, { pipe: true })) {
      if (out.aborted) return;
      const text = cleanText(c.text, { pipe: true });
      // A transcript of nothing but `|` is empty once they go: a line without text trains on nothing.
      if (!text) continue;
      const original = cleanText(c.row.text_original ?? c.text, { pipe: true }) || text;
      await buf.add(`${cleanText(c.id, { pipe: true })}|${original}|${text}\n`);
    }
    await buf.flush();
  },
};
