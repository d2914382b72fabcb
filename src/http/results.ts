import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import type { ResultStore } from '../store/types.ts';
import type { AppDeps } from './deps.ts';
import { csvHeaderLine, csvLine, jsonLine } from './export-format.ts';
import { resolver } from 'hono-openapi';
import { describe, errors, json } from './openapi.ts';
import { ResultsPageSchema, SpeakersSchema, type ResultsPage, type Speakers } from './responses.ts';
import { encodeCursor, ResultsQuerySchema, TaskIdParamSchema } from './schemas.ts';
import { findTask } from './task-lookup.ts';
import { validate } from './validate.ts';

const EXPORT_PAGE = 1000;

/** Streams every result page by page, so an export of any size holds one page in memory. */
async function* allResults(store: ResultStore, taskId: string, only: 'failed' | 'ok' | undefined) {
  for (let after: string | undefined; ;) {
    const page = await store.results(taskId, { after, limit: EXPORT_PAGE, only });
    for (const r of page) yield r;
    if (page.length < EXPORT_PAGE) return;
    after = page[page.length - 1]!.path;
  }
}

/** Results (paged, or exported as JSONL/CSV) and the per-speaker summary. */
export function resultRoutes(deps: AppDeps): Hono {
  const { reader, results: store } = deps;
  const app = new Hono();

  app.get(
    '/scan-results/:task_id',
    describe({
      tag: 'results',
      summary: 'Per-file results, paged (or all of them as JSONL or CSV)',
      description: 'Rows in byte order of `path`; partial results while the task runs. `?format=jsonl|csv` streams every row as a download.',
      responses: {
        200: {
          ...json(ResultsPageSchema, 'A page of results; or, with `format`, every row as a download'),
          content: {
            'application/json': { schema: resolver(ResultsPageSchema) },
            'application/x-ndjson': { schema: { type: 'string', description: 'One FileResult JSON object per line' } },
            'text/csv': { schema: { type: 'string', description: 'RFC 4180 CSV with a header line; `error` as `error_code` and `error_detail`' } },
          },
        },
        ...errors(400, 404),
      },
    }),
    validate('param', TaskIdParamSchema),
    validate('query', ResultsQuerySchema),
    async (c) => {
      const { snapshot } = await findTask(reader, c.req.param('task_id'));
      const q = c.req.valid('query');
      const id = snapshot.task_id;
      if (q.format === 'jsonl' || q.format === 'csv') {
        const csv = q.format === 'csv';
        c.header('Content-Type', csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
        c.header('Content-Disposition', `attachment; filename="scan-${id}.${q.format}"`);
        c.header('Cache-Control', 'no-store');
        return stream(c, async (s) => {
          if (csv) await s.write(csvHeaderLine());
          let buf = '';
          for await (const r of allResults(store, id, q.only)) {
            if (s.aborted) return;
            buf += csv ? csvLine(r) : jsonLine(r);
            if (buf.length > 64 * 1024) {
              await s.write(buf);
              buf = '';
            }
          }
          if (buf) await s.write(buf);
        });
      }
      const rows = await store.results(id, { after: q.cursor, limit: q.limit + 1, only: q.only });
      const more = rows.length > q.limit;
      const items = more ? rows.slice(0, q.limit) : rows;
      c.header('Cache-Control', 'no-store');
      const page: ResultsPage = { items, next_cursor: more ? encodeCursor(items[items.length - 1]!.path) : null };
      return c.json(page);
    },
  );

  app.get(
    '/scan-speakers/:task_id',
    describe({
      tag: 'results',
      summary: 'Per-speaker summary (filled when the scan finalizes)',
      responses: { 200: json(SpeakersSchema, 'Speakers, in numeric id order'), ...errors(404) },
    }),
    validate('param', TaskIdParamSchema),
    async (c) => {
      const { snapshot } = await findTask(reader, c.req.param('task_id'));
      c.header('Cache-Control', 'no-store');
      const body: Speakers = { task_id: snapshot.task_id, items: await store.speakers(snapshot.task_id) };
      return c.json(body);
    },
  );

  return app;
}
