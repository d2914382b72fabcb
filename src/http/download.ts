import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Context } from 'hono';
import { stream } from 'hono/streaming';
import type { TaskSnapshot } from '../domain/task.ts';
import type { ExportContext, ExportFormat, SpeakerInfo, TextChoice } from '../export/types.ts';
import type { Logger } from '../logger.ts';
import type { ResultFilter, ResultSort } from '../store/result-query.ts';
import type { ResultStore } from '../store/types.ts';
import { allRows } from './result-rows.ts';

export interface DownloadRequest {
  snapshot: TaskSnapshot;
  /** The scanned root, or the client's `path_prefix`. */
  root: string;
  filter: ResultFilter;
  sort: ResultSort;
  text: TextChoice;
}

/**
 * Streams one download format for a task: the headers, then the format's bytes as it reads the
 * rows page by page from the store, each write waiting for the client. A temporary directory
 * (tar members, sort runs) is made on demand and removed however the download ends.
 */
export async function download(c: Context, store: ResultStore, logger: Logger, format: ExportFormat, req: DownloadRequest): Promise<Response> {
  const id = req.snapshot.task_id;
  const speakers = new Map<string, SpeakerInfo>();
  for (const s of await store.speakers(id)) speakers.set(s.speaker_id, { name: s.name, gender: s.gender });
  let temp: string | null = null;
  const ctx: ExportContext = {
    taskId: id,
    analysis: req.snapshot.analysis,
    root: req.root.replace(/\/+$/, ''),
    text: req.text,
    speakers,
    rows: () => allRows(store, id, req.filter, req.sort),
    tempDir: async () => (temp ??= await fs.mkdtemp(path.join(os.tmpdir(), 'vl-export-'))),
  };
  c.header('Content-Type', format.contentType);
  c.header('Content-Disposition', `attachment; filename="${format.filename(id)}"`);
  c.header('Cache-Control', 'no-store');
  return stream(
    c,
    async (s) => {
      try {
        await format.write(ctx, s);
      } finally {
        if (temp) await fs.rm(temp, { recursive: true, force: true });
      }
    },
    async (err) => {
      // The headers are gone: the client sees the body end early (a tar without its end blocks).
      logger.error('download failed', { task_id: id, format: format.name, err: err.message });
    },
  );
}
