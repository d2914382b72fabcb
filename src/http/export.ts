import { Hono } from 'hono';
import { TRAINING_FORMATS } from '../export/registry.ts';
import type { AppDeps } from './deps.ts';
import { download } from './download.ts';
import { describe, errors, other } from './openapi.ts';
import { ExportQuerySchema, resultFilterOf, TaskIdParamSchema } from './schemas.ts';
import { findTask } from './task-lookup.ts';
import { AppError } from '../errors.ts';
import { validate } from './validate.ts';

/** Training manifests of a task's good rows, in the toolkits' own formats (src/export/). */
export function exportRoutes(deps: AppDeps): Hono {
  const { reader, results: store } = deps;
  const app = new Hono();

  app.get(
    '/scan-export/:task_id',
    describe({
      tag: 'results',
      auth: 'bearer-or-query',
      summary: 'Training manifests: NeMo, Lhotse, Kaldi/ESPnet, LJSpeech, Coqui, Hugging Face audiofolder',
      description:
        'The rows that match the result filters, failed rows and clips without a transcript left out, streamed as one toolkit’s manifest. ' +
        '`lhotse` and `kaldi` are tar archives. `path_prefix` writes absolute paths under another root; `text=original` uses the original ' +
        'transcript. Whitespace and line breaks in transcripts become single spaces; in `ljspeech` and `coqui`, `|` becomes a space too.',
      responses: {
        200: other('The manifest, as a download (`Content-Disposition`)', {
          'application/x-ndjson': { schema: { type: 'string', description: 'nemo, audiofolder' } },
          'application/x-tar': { schema: { type: 'string', format: 'binary', description: 'lhotse, kaldi' } },
          'text/csv': { schema: { type: 'string', description: 'ljspeech, coqui (pipe-separated)' } },
        }),
        ...errors(400, 404, [507, '`STORAGE_FULL`: the temporary files of a tar (Kaldi, Lhotse) found the disk full before the first byte']),
      },
    }),
    validate('param', TaskIdParamSchema),
    validate('query', ExportQuerySchema),
    async (c) => {
      const { snapshot } = await findTask(reader, c.req.param('task_id'));
      const q = c.req.valid('query');
      const { filter, sort } = resultFilterOf({ ...q, only: 'ok' });
      const root = q.path_prefix ?? (await reader.rootOf(snapshot.task_id));
      if (root === null) throw new AppError(404, 'TASK_NOT_FOUND', `Task ${snapshot.task_id} has no recorded root`);
      return download(c, store, deps.logger, TRAINING_FORMATS[q.format], { snapshot, root, filter, sort, text: q.text });
    },
  );

  return app;
}
