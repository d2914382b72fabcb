import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { AppError } from '../errors.ts';
import { isTerminal } from '../domain/task.ts';
import { waitForEnd } from '../tasks/wait-for-end.ts';
import { BASE, type AppDeps } from './deps.ts';
import { checkScanPath } from './scan-path.ts';
import { describe, errors, json, other } from './openapi.ts';
import { AcceptedSchema, TaskListSchema, TaskSnapshot, type Accepted } from './responses.ts';
import { ListQuerySchema, ScanRequestSchema, TaskIdParamSchema } from './schemas.ts';
import { findTask } from './task-lookup.ts';
import { bodyLimit } from './body-limit.ts';
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
    describe({
      tag: 'scans',
      summary: 'Start a scan',
      description: 'Validates the request and answers 202 at once (no discovery, no file reading before answering). The scan runs in the background.',
      responses: {
        202: {
          ...json(AcceptedSchema, 'Accepted: follow `events_url` or poll `status_url`'),
          headers: { Location: { description: 'The status URL', schema: { type: 'string' } } },
        },
        ...errors([400, 'Bad input: `INVALID_JSON`, `VALIDATION_FAILED` (with `issues`), `PATH_NOT_FOUND` or `NOT_A_DIRECTORY`'], 403, 413, 415, 429, 507),
      },
    }),
    bodyLimit(config.MAX_BODY_BYTES, () => {
      throw new AppError(413, 'PAYLOAD_TOO_LARGE', `Request body is larger than ${config.MAX_BODY_BYTES} bytes`);
    }),
    requireJsonBody,
    validate('json', ScanRequestSchema),
    async (c) => {
      const body = c.req.valid('json');
      // Resolved once, here: the task scans this real path, and workers re-check it before reading.
      const root = await checkScanPath(body.libritts_path, roots);
      const snap = await queue.submit({ libritts_path: body.libritts_path, root, analysis: body.analysis, subsets: body.subsets, reuse: body.reuse });
      const id = snap.task_id;
      const statusUrl = `${BASE}/scan-status/${id}`;
      c.header('Location', statusUrl);
      const accepted: Accepted = {
        task_id: id,
        status: 'accepted',
        message: 'Scan started in background. Use task_id to check status.',
        status_url: statusUrl,
        events_url: `${BASE}/scan-events/${id}`,
        results_url: `${BASE}/scan-results/${id}`,
      };
      return c.json(accepted, 202);
    },
  );

  app.get(
    '/scan-status/:task_id',
    describe({
      tag: 'scans',
      summary: 'A task’s snapshot (polling)',
      description: '`Cache-Control: no-store`; an `ETag` that changes with the snapshot (`If-None-Match` → 304); `Retry-After: 1` while the task is active.',
      responses: {
        200: {
          ...json(TaskSnapshot, 'The snapshot'),
          headers: { ETag: { schema: { type: 'string' } }, 'Retry-After': { description: 'While the task is active', schema: { type: 'string' } } },
        },
        304: other('Unchanged since the `If-None-Match` ETag'),
        ...errors(404),
      },
    }),
    validate('param', TaskIdParamSchema),
    async (c) => {
      const { snapshot } = await findTask(reader, c.req.param('task_id'));
      const body = JSON.stringify(snapshot);
      const etag = etagOf(body);
      c.header('Cache-Control', 'no-store');
      c.header('ETag', etag);
      if (!isTerminal(snapshot.status)) c.header('Retry-After', '1');
      if (matches(c.req.header('if-none-match'), etag)) return c.body(null, 304);
      c.header('Content-Type', 'application/json');
      return c.body(body, 200);
    },
  );

  app.get(
    '/scans',
    describe({ tag: 'scans', summary: 'List tasks, newest first', responses: { 200: json(TaskListSchema, 'Tasks'), ...errors(400) } }),
    validate('query', ListQuerySchema),
    async (c) => {
      const q = c.req.valid('query');
      c.header('Cache-Control', 'no-store');
      return c.json({ items: await reader.list({ status: q.status, limit: q.limit }) });
    },
  );

  app.post(
    '/scan-cancel/:task_id',
    describe({
      tag: 'scans',
      summary: 'Cancel a queued or running task',
      description: 'Answers 200 with the final snapshot once the task has stopped on every worker, or 202 with the current one if it has not after 2 s.',
      responses: { 200: json(TaskSnapshot, 'Stopped: the final snapshot'), 202: json(TaskSnapshot, 'Cancel accepted, still stopping'), ...errors(404, 409, 507) },
    }),
    validate('param', TaskIdParamSchema),
    async (c) => {
      const { snapshot } = await findTask(reader, c.req.param('task_id'));
      const id = snapshot.task_id;
      await queue.cancel(id);
      const final = await waitForEnd(reader, events, id, CANCEL_WAIT_MS);
      // A task that was finishing when the cancel came ends as it would have: not cancelled, so
      // not a 200 with a completed snapshot, but what a cancel of an ended task answers.
      if (final && final.status !== 'cancelled') throw new AppError(409, 'TASK_NOT_ACTIVE', `Task ${id} ${final.status} before the cancel took effect`);
      if (final) return c.json(final, 200);
      return c.json((await findTask(reader, id)).snapshot, 202);
    },
  );

  app.delete(
    '/scans/:task_id',
    describe({ tag: 'scans', summary: 'Delete an ended task and its results', responses: { 204: other('Deleted'), ...errors(404, 409, 507) } }),
    validate('param', TaskIdParamSchema),
    async (c) => {
      const { snapshot } = await findTask(reader, c.req.param('task_id'));
      await queue.remove(snapshot.task_id);
      return c.body(null, 204);
    },
  );

  return app;
}
