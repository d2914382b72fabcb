import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Context } from 'hono';
import type { TaskSnapshot } from '../domain/task.ts';
import { AppError } from '../errors.ts';
import type { ExportContext, ExportFormat, Sink, SpeakerInfo, TextChoice } from '../export/types.ts';
import type { Logger } from '../logger.ts';
import type { ResultFilter, ResultSort } from '../store/result-query.ts';
import { StorageFullError, StoreUnavailableError, type ResultStore } from '../store/types.ts';
import { DownloadBody } from './download-body.ts';
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
 * Streams one download format for a task, reading the rows page by page from the store, each
 * write waiting for the client. The headers go out with the first byte: a format that fails
 * before it (a tar spools every member first; NeMo reads the speakers first) gets a real error
 * answer, and one that fails after it ends the body as a broken transfer (download-body.ts). A
 * temporary directory (tar members, sort runs) is made on demand and removed however it ends.
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
  const headers = {
    'Content-Type': format.contentType,
    'Content-Disposition': `attachment; filename="${format.filename(id)}"`,
    'Cache-Control': 'no-store',
  };
  // HEAD: the headers alone, without reading a row (hono runs the GET handler and drops its body).
  if (c.req.method === 'HEAD') return c.body(null, 200, headers);
  const out = new DownloadBody();
  // A client gone before this ran has a signal aborted already, whose listeners never fire.
  const signal = c.req.raw.signal;
  if (signal.aborted) out.cancel();
  else signal.addEventListener('abort', () => out.cancel(), { once: true });
  let started = false;
  let begin!: () => void;
  const firstByte = new Promise<void>((resolve) => (begin = resolve));
  const sink: Sink = {
    write(chunk) {
      started = true;
      begin();
      return out.write(chunk);
    },
    get aborted() {
      return out.aborted;
    },
  };
  const outcome = (async () => {
    try {
      await format.write(ctx, sink);
      return null;
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    } finally {
      if (temp) await removeTemp(temp, logger);
    }
  })();
  await Promise.race([firstByte, outcome]);
  if (!started) {
    const err = await outcome;
    if (err) {
      logger.error('download failed', { task_id: id, format: format.name, err: err.message });
      throw failedDownload(err);
    }
  }
  void outcome.then((err) => {
    if (!err) return out.close();
    logger.error('download failed', { task_id: id, format: format.name, err: err.message });
    out.fail(err);
  });
  out.handedOut();
  return c.body(out.body, 200, headers);
}

/** Removes a download's temporary directory; a failure (a busy or read-only disk) is logged, never thrown after the response. */
async function removeTemp(dir: string, logger: Logger): Promise<void> {
  try {
    await fs.rm(dir, { recursive: true, force: true });
  } catch (err) {
    logger.error("could not remove a download's temporary directory", { dir, err: (err as Error).message });
  }
}

/** A download that failed before its first byte, as the error answer: a full disk (the temporary files') is a 507. */
function failedDownload(err: Error): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new StorageFullError("The disk holding the export's temporary files is full");
  if (err instanceof StorageFullError || err instanceof StoreUnavailableError) return err;
  return new AppError(500, 'INTERNAL_ERROR', 'The download failed before its first byte; the server log says why');
}
