import { clips } from './clips.ts';
import { LineBuffer } from './text.ts';
import type { ExportFormat } from './types.ts';

/**
 * Hugging Face audiofolder `metadata.jsonl`: `file_name` relative to the metadata file, which goes
 * at the scanned root; the other columns become features. `load_dataset("audiofolder", data_dir=…)`.
 */
export const audiofolder: ExportFormat = {
  name: 'audiofolder',
  contentType: 'application/x-ndjson; charset=utf-8',
  filename: (id) => `${id}-audiofolder-metadata.jsonl`,
  async write(ctx, out) {
    const buf = new LineBuffer(out);
    for await (const c of clips(ctx)) {
      if (out.aborted) return;
      await buf.add(JSON.stringify({ file_name: c.path, transcription: c.text, speaker_id: c.row.speaker_id, duration: c.duration }) + '\n');
    }
    await buf.flush();
  },
};
