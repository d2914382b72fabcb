import { clips } from './clips.ts';
import { destroyAll, spool, writeTar } from './tar-spool.ts';
import { absolutePath, cleanText } from './text.ts';
import type { ExportFormat } from './types.ts';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * Lhotse manifests (`lhotse/audio/recording.py`, `lhotse/supervision.py`): a tar of
 * `recordings.jsonl.gz` and `supervisions.jsonl.gz`, one whole-file supervision per recording,
 * as Lhotse's own LibriTTS recipe makes them (`text` the chosen transcript, `custom.orig_text`
 * the original, `custom.snr` when the scan measured it). Load with
 * `CutSet.from_manifests(recordings=load_manifest(…), supervisions=load_manifest(…))`.
 */
export const lhotse: ExportFormat = {
  name: 'lhotse',
  contentType: 'application/x-tar',
  filename: (id) => `${id}-lhotse.tar`,
  async write(ctx, out) {
    const dir = await ctx.tempDir();
    const recordings = spool(dir, 'recordings.jsonl.gz');
    const supervisions = spool(dir, 'supervisions.jsonl.gz');
    try {
      for await (const c of clips(ctx)) {
        if (out.aborted) return;
        const r = c.row;
        const channels = range(r.channels ?? 1);
        await recordings.write(
          JSON.stringify({
            id: c.id,
            sources: [{ type: 'file', channels, source: absolutePath(ctx.root, c.path) }],
            sampling_rate: r.sample_rate,
            num_samples: r.frames,
            duration: c.duration,
            channel_ids: channels,
          }) + '\n',
        );
        const custom: Record<string, unknown> = { orig_text: r.text_original === null ? c.text : cleanText(r.text_original) };
        if (r.snr_db !== null) custom.snr = r.snr_db;
        await supervisions.write(
          JSON.stringify({
            id: c.id,
            recording_id: c.id,
            start: 0,
            duration: c.duration,
            channel: channels.length === 1 ? 0 : channels,
            text: c.text,
            language: 'English',
            speaker: r.speaker_id,
            gender: r.speaker_id === null ? null : (ctx.speakers.get(r.speaker_id)?.gender ?? null),
            custom,
          }) + '\n',
        );
      }
      await writeTar([await recordings.end(), await supervisions.end()], out);
    } finally {
      destroyAll([recordings, supervisions]);
    }
  },
};
