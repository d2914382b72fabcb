import { Readable } from 'node:stream';
import { Hono } from 'hono';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { fsPath, textToBytes } from '../scan/file-names.ts';
import { ConversionRefused, ConversionsBusy, type Pcm16Converter } from '../scan/pcm16-converter.ts';
import { insideRoots, openUnderAsync } from '../scan/safe-open.ts';
import type { AppDeps } from './deps.ts';
import { describe, errors, other } from './openapi.ts';
import { TaskIdParamSchema } from './schemas.ts';
import { findTask } from './task-lookup.ts';
import { validate } from './validate.ts';

const AudioQuerySchema = z.object({
  path: z.string().min(1, 'path is required').max(8192).meta({ description: 'A result row’s `path`, exactly' }),
  as: z.enum(['pcm16'], { error: 'as must be "pcm16"' }).optional().meta({ description: '`pcm16`: converted to a 16-bit PCM WAV that any browser plays' }),
  access_token: z.string().optional().meta({ description: 'API_TOKEN, for <audio> elements that cannot send headers' }),
});

const WAV = { 'audio/wav': { schema: { type: 'string', format: 'binary' } } } as const;
/** The headers of a file answer (what the handler below sets), for the API description. */
const FILE_HEADERS: Record<string, { description: string; schema: { type: 'string' | 'integer' } }> = {
  'Content-Length': { description: 'Bytes in this answer', schema: { type: 'integer' } },
  'Content-Disposition': { description: '`inline; filename="<name>"`', schema: { type: 'string' } },
  'Cache-Control': { description: 'How long a client may keep it', schema: { type: 'string' } },
  ETag: { description: 'The file’s size and modification time (not with `as=pcm16`)', schema: { type: 'string' } },
};

const notFound = (path: string): AppError => new AppError(404, 'FILE_NOT_FOUND', `No file ${JSON.stringify(path.slice(0, 300))} among this task's results`);

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` → the inclusive range, `'unsatisfiable'`, or null (serve it all). */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Several ranges, or another unit: the whole file, as RFC 9110 allows a server to answer.
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(size - 1, Number(m[2]));
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

const etagOf = (size: number, mtimeMs: number): string => `"${size.toString(16)}-${Math.floor(mtimeMs * 1000).toString(16)}"`;

const matches = (ifNoneMatch: string | undefined, etag: string): boolean => !!ifNoneMatch && ifNoneMatch.split(',').some((t) => ['*', etag].includes(t.trim().replace(/^W\//, '')));

/**
 * GET /scan-audio/:task_id?path=…: the bytes of one file the task scanned, for <audio> players.
 * Only a path that is one of the task's result rows is served, opened under the task's root by
 * the scan's own rules (safe-open.ts): whatever `..`, encoding or symlink trick a path holds,
 * the answer is that row's file or 404. Ranges, ETag/304, HEAD; `?as=pcm16` converts in a
 * worker thread (pcm16-converter.ts).
 */
export function audioRoutes(deps: AppDeps & { converter: Pcm16Converter }): Hono {
  const { reader, results, converter } = deps;
  const app = new Hono();

  app.get(
    '/scan-audio/:task_id',
    describe({
      tag: 'results',
      auth: 'bearer-or-query',
      summary: 'The audio of one scanned file',
      description:
        '`Accept-Ranges: bytes`: `Range: bytes=a-b` (also `a-` and `-n`) → 206 with `Content-Range`; a range outside the file → 416. `ETag` (size and ' +
        'modification time) with `If-None-Match` → 304. `?as=pcm16` streams the file converted to 16-bit PCM (same rate and channels), whole (no ranges).',
      responses: {
        200: other('The file (or, with `as=pcm16`, the converted file: `Accept-Ranges: none`, no `ETag`)', WAV, {
          ...FILE_HEADERS,
          'Accept-Ranges': { description: '`bytes`; `none` with `as=pcm16`', schema: { type: 'string' } },
        }),
        206: other('A byte range of the file', WAV, {
          ...FILE_HEADERS,
          'Accept-Ranges': { description: '`bytes`', schema: { type: 'string' } },
          'Content-Range': { description: '`bytes <first>-<last>/<size>`', schema: { type: 'string' } },
        }),
        304: other('Unchanged since the `If-None-Match` ETag', undefined, { ETag: FILE_HEADERS.ETag!, 'Cache-Control': FILE_HEADERS['Cache-Control']! }),
        ...errors(
          400,
          403,
          404,
          [415, '`UNSUPPORTED_MEDIA_TYPE`: `as=pcm16` of a file the scanner cannot decode, or whose 16-bit header cannot hold its channels or rate'],
          416,
          503,
        ),
      },
    }),
    validate('param', TaskIdParamSchema),
    validate('query', AudioQuerySchema),
    async (c) => {
      const { snapshot } = await findTask(reader, c.req.param('task_id'));
      const id = snapshot.task_id;
      const q = c.req.valid('query');
      // Only a result row's own path: no path arithmetic on what the client sent.
      if (!textToBytes(q.path) || !(await results.resultsByPaths(id, [q.path])).some((r) => r.path === q.path)) throw notFound(q.path);
      const root = await reader.rootOf(id);
      if (!root) throw notFound(q.path);
      // SCAN_ROOTS as it is now, not as it was when the task was scanned: a root taken off the
      // list is not served any more, as it would not be scanned.
      if (!insideRoots(deps.roots, root)) {
        throw new AppError(403, 'PATH_NOT_ALLOWED', "The task's directory is outside the allowed scan roots now (SCAN_ROOTS)");
      }
      const name = q.path.slice(q.path.lastIndexOf('/') + 1).replace(/[^\w.-]/g, '_');
      // A URL that carries the token is kept in no cache (the browser's disk cache keys by URL).
      const cacheControl = c.req.query('access_token') === undefined ? 'private, no-cache' : 'no-store';
      // Set once the audio is there to answer with: an error's JSON names no file.
      const audioHeaders = () => {
        c.header('Content-Type', 'audio/wav');
        c.header('Content-Disposition', `inline; filename="${name}"`);
        c.header('Cache-Control', cacheControl);
      };

      if (q.as === 'pcm16') {
        let converted: Awaited<ReturnType<Pcm16Converter['open']>>;
        try {
          converted = await converter.open(root, q.path);
        } catch (err) {
          if (err instanceof ConversionRefused && err.status === 415) throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', err.detail);
          if (err instanceof ConversionsBusy) {
            throw new AppError(503, 'TOO_MANY_STREAMS', `${err.maxOpen} audio conversions are open (MAX_AUDIO_CONVERSIONS); retry later, or play the file as it is`, [], {
              'Retry-After': '5',
            });
          }
          throw notFound(q.path);
        }
        audioHeaders();
        c.header('Content-Length', String(converted.bytes));
        c.header('Accept-Ranges', 'none');
        if (c.req.method === 'HEAD') {
          await converted.body.cancel();
          return c.body(null, 200);
        }
        return c.body(converted.body, 200);
      }

      const opened = await openUnderAsync(root, fsPath(root, q.path));
      if (!('handle' in opened)) throw notFound(q.path);
      const { handle, stat } = opened;
      let handed = false;
      try {
        const size = stat.size;
        const etag = etagOf(size, stat.mtimeMs);
        c.header('ETag', etag);
        c.header('Cache-Control', cacheControl); // a 304 carries it too
        c.header('Accept-Ranges', 'bytes');
        if (matches(c.req.header('if-none-match'), etag)) return c.body(null, 304);
        const range = parseRange(c.req.header('range'), size);
        if (range === 'unsatisfiable') {
          c.header('Content-Range', `bytes */${size}`);
          throw new AppError(416, 'RANGE_NOT_SATISFIABLE', `The range ${c.req.header('range')} lies outside the file (${size} bytes)`, [], { 'Content-Range': `bytes */${size}` });
        }
        audioHeaders();
        const start = range?.start ?? 0;
        const end = range?.end ?? size - 1;
        c.header('Content-Length', String(Math.max(0, end - start + 1)));
        if (range) c.header('Content-Range', `bytes ${start}-${end}/${size}`);
        const status = range ? 206 : 200;
        if (c.req.method === 'HEAD' || size === 0) return c.body(null, status);
        // The stream closes the descriptor when it ends or the client goes away.
        const body = Readable.toWeb(handle.createReadStream({ start, end, highWaterMark: 64 * 1024 })) as ReadableStream<Uint8Array>;
        handed = true;
        return c.body(body, status);
      } finally {
        if (!handed) await handle.close().catch(() => {});
      }
    },
  );

  return app;
}
