import { speakerKey } from '../store/result-query.ts';
import { clips } from './clips.ts';
import { absolutePath, cleanText, LineBuffer } from './text.ts';
import type { ExportFormat } from './types.ts';

/**
 * NeMo manifest: JSONL, one clip per line (`nemo/collections/tts/data/dataset.py`). `speaker` is
 * the embedding index NeMo wants, 0…N−1 over the exported speakers in id order (numeric ids in
 * numeric order), and `speaker_id` keeps the dataset's id, so every line carries the map.
 * `text` is the chosen transcript, `normalized_text` the normalized one.
 */
/**
 * A speaker's embedding index. A speaker the first pass did not see (the task is still scanning,
 * and its first rows came in between the passes) takes the next number: a line without
 * `speaker` is what such rows got before stop 23, and NeMo needs an integer on every line.
 */
function speakerIndex(index: Map<string, number>, id: string): number {
  let i = index.get(id);
  if (i === undefined) index.set(id, (i = index.size));
  return i;
}

export const nemo: ExportFormat = {
  name: 'nemo',
  contentType: 'application/x-ndjson; charset=utf-8',
  filename: (id) => `${id}-nemo-manifest.jsonl`,
  async write(ctx, out) {
    // A first pass for the speakers: one id per speaker in memory, not one row per clip.
    const ids = new Set<string>();
    for await (const c of clips(ctx)) ids.add(c.row.speaker_id ?? '');
    const index = new Map([...ids].sort((a, b) => (speakerKey(a) < speakerKey(b) ? -1 : speakerKey(a) > speakerKey(b) ? 1 : 0)).map((id, i) => [id, i]));
    const buf = new LineBuffer(out);
    for await (const c of clips(ctx)) {
      if (out.aborted) return;
      const line = {
        audio_filepath: absolutePath(ctx.root, c.path),
        duration: c.duration,
        text: c.text,
        // A blank normalized transcript is no text: NeMo reads normalized_text before text.
        normalized_text: (c.row.text_normalized === null ? '' : cleanText(c.row.text_normalized)) || c.text,
        speaker: speakerIndex(index, c.row.speaker_id ?? ''),
        speaker_id: c.row.speaker_id,
      };
      await buf.add(JSON.stringify(line) + '\n');
    }
    await buf.flush();
  },
};
