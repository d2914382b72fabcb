import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { AppError } from '../errors.ts';
import { isTerminal } from '../domain/task.ts';
import { waitForEnd } from '../tasks/wait-for-end.ts';
import { BASE, type AppDeps } from './deps.ts';
import { checkScanPath } from './scan-path.ts';
import { ListQuerySchema, ScanRequestSchema } from './schemas.ts';
import { findTask } from './task-lookup.ts';
import { requireJsonBody, validate } from './validate.ts';

/** How long a cancel request waits for the scan to stop before answering 202 instead of 200. */
const CANCEL_WAIT_MS = 2000;

const etagOf = (body: string): string => `"${createHash('sha1').update(body).digest('base64url')}"`;

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '');
    return tag === '*' || tag === etag;
  });
}

/** Task lifecycle routes: submit, status (polling), list, cancel, delete. */
export function scanRoutes(deps: AppDeps): Hono {
  const { queue, reader, events, config, roots } = deps;
  const app = new Hono();

  app.post(
    '/scan-libritts',
    bodyLimit({
      maxSize: config.MAX_BODY_BYTES,
      onError: () => {
        throw new AppError(413, 'PAYLOAD_TOO_LARGE', `Request body is larger than ${config.MAX_BODY_BYTES} bytes`);
      },
    }),
    requireJsonBody,
    validate('json', ScanRequestSchema),
    async (c) => {
      const body = c.req.valid('json');
      // Resolved once, here: the task scans this real path, and workers re-check it before reading.
      const root = await checkScanPath(body.libritts_path, roots);
      const snap = await queue.submit({ libritts_path: body.libritts_path, root, analysis: body.analysis, subsets: body.subsets });
      const id = snap.task_id;
      const statusUrl = `${BASE}/scan-status/${id}`;
      c.header('Location', statusUrl);
      return c.json(
        {
          task_id: id,
          status: 'accepted',
          message: 'Scan started in background. Use task_id to check status.',
          status_url: statusUrl,
          events_url: `${BASE}/scan-events/${id}`,
          results_url: `${BASE}/scan-results/${id}`,
        },
        202,
      );
    },
  );

  app.get('/scan-status/:task_id', async (c) => {
    const { snapshot } = await findTask(reader, c.req.param('task_id'));
    const body = JSON.stringify(snapshot);
    const etag = etagOf(body);
    c.header('Cache-Control', 'no-store');
    c.header('ETag', etag);
    if (!isTerminal(snapshot.status)) c.header('Retry-After', '1');
    if (matches(c.req.header('if-none-match'), etag)) return c.body(null, 304);
    c.header('Content-Type', 'application/json');
    return c.body(body, 200);
  });

  app.get('/scans', validate('query', ListQuerySchema), async (c) => {
    const q = c.req.valid('query');
    c.header('Cache-Control', 'no-store');
    return c.json({ items: await reader.list({ status: q.status, limit: q.limit }) });
  });

  app.post('/scan-cancel/:task_id', async (c) => {
    const { snapshot } = await findTask(reader, c.req.param('task_id'));
    const id = snapshot.task_id;
    await queue.cancel(id);
    const final = await waitForEnd(reader, events, id, CANCEL_WAIT_MS);
    if (final) return c.json(final, 200);
    return c.json((await findTask(reader, id)).snapshot, 202);
  });

  app.delete('/scans/:task_id', async (c) => {
    const { snapshot } = await findTask(reader, c.req.param('task_id'));
    await queue.remove(snapshot.task_id);
    return c.body(null, 204);
  });

  return app;
}
