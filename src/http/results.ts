import { Hono } from 'hono';
import { isTerminal, type TaskSnapshot } from '../domain/task.ts';
import type { ResultFilter } from '../store/result-query.ts';
import type { ResultStore } from '../store/types.ts';
import type { AppDeps } from './deps.ts';
import { RESULT_DOWNLOADS } from '../export/registry.ts';
import { download } from './download.ts';
import { resolver } from 'hono-openapi';
import { describe, errors, json } from './openapi.ts';
import { ResultsPageSchema, type ResultsPage } from './responses.ts';
import { encodeCursor, resultFilterOf, ResultsQuerySchema, TaskIdParamSchema, totalDigest } from './schemas.ts';
import { findTask } from './task-lookup.ts';
import { validate } from './validate.ts';

/**
 * How many rows match. An ended task's plain counts are in its snapshot (files_done counts its
 * rows), which spares counting a few hundred thousand index entries per page.
 */
async function totalOf(store: ResultStore, s: TaskSnapshot, filter: ResultFilter): Promise<number> {
  const plain = Object.entries(filter).every(([k, v]) => v === undefined || k === 'only');
  if (plain && s.status === 'completed') {
    if (filter.only === 'failed') return s.files_failed;
    if (filter.only === 'ok') return s.files_done - s.files_failed;
    return s.files_done;
  }
  return store.count(s.task_id, filter);
}

/** Results: paged with filters and sorts, or every matching row as JSONL/CSV. */
export function resultRoutes(deps: AppDeps): Hono {
  const { reader, results: store } = deps;
  const app = new Hono();

  app.get(
    '/scan-results/:task_id',
    describe({
      tag: 'results',
      auth: 'bearer-or-query',
      summary: 'Per-file results, paged (or all of them as JSONL or CSV)',
      description:
        'Rows in byte order of `path` by default, or in the `sort` order; the filters combine with AND; `total` counts every matching row, and ' +
        '`cursor` pages through them exactly once. Partial results while the task runs. `?format=jsonl|csv` streams every matching row as a download.',
      responses: {
        200: {
          ...json(ResultsPageSchema, 'A page of results; or, with `format`, every row as a download'),
          content: {
            'application/json': { schema: resolver(ResultsPageSchema) },
            'application/x-ndjson': { schema: { type: 'string', description: 'One FileResult JSON object per line' } },
            'text/csv': { schema: { type: 'string', description: 'RFC 4180 CSV with a header line; `error` as `error_code` and `error_detail`' } },
          },
        },
        ...errors(400, 404, [507, '`STORAGE_FULL`: a download whose temporary files found the disk full before its first byte']),
      },
    }),
    validate('param', TaskIdParamSchema),
    validate('query', ResultsQuerySchema),
    async (c) => {
      const { snapshot } = await findTask(reader, c.req.param('task_id'));
      const q = c.req.valid('query');
      const id = snapshot.task_id;
      if (q.format === 'jsonl' || q.format === 'csv') {
        const { filter, sort } = resultFilterOf(q);
        return download(c, store, deps.logger, RESULT_DOWNLOADS[q.format], { snapshot, root: '', filter, sort, text: 'normalized' });
      }
      const { filter, sort } = resultFilterOf(q);
      const after = q.cursor ? { value: q.cursor.v, path: q.cursor.p } : undefined;
      // An ended task's rows never change: its count travels in the cursor from the first page on.
      const ended = isTerminal(snapshot.status);
      const carried = ended && q.cursor?.t !== undefined && q.cursor.f === totalDigest(q.cursor.t, id, filter) ? q.cursor.t : undefined;
      // The count first: the store picks its plan by it (result-store.ts planFor).
      const total = carried ?? (await totalOf(store, snapshot, filter));
      const page = await store.page(id, { filter, sort, after, limit: q.limit, total });
      c.header('Cache-Control', 'no-store');
      const next = page.next ? encodeCursor(sort, page.next, ended ? { total, task: id, filter } : undefined) : null;
      const body: ResultsPage = { items: page.rows, next_cursor: next, total };
      return c.json(body);
    },
  );

  return app;
}
