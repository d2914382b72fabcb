import { Hono } from 'hono';
import { z } from 'zod';
import { DEFAULT_WINDOW, pickReferences } from '../domain/reference-clips.ts';
import type { FileResult } from '../domain/file-result.ts';
import { AppError } from '../errors.ts';
import type { AppDeps } from './deps.ts';
import { BASE } from './deps.ts';
import { describe, errors, json } from './openapi.ts';
import { SpeakerDetailSchema, SpeakersSchema, type SpeakerDetail, type Speakers } from './responses.ts';
import { allRows } from './result-rows.ts';
import { TaskIdParamSchema } from './schemas.ts';
import { findTask } from './task-lookup.ts';
import { validate } from './validate.ts';

const seconds = (name: string) =>
  z
    .string()
    .regex(/^\d{1,5}(\.\d{1,6})?$/, `${name} must be a number of seconds`)
    .transform(Number)
    .optional();

const SpeakerQuerySchema = z
  .object({
    n: z
      .string()
      .regex(/^\d+$/, 'n must be a whole number')
      .transform(Number)
      .pipe(z.number().int().min(1, 'n must be at least 1').max(20, 'n must be at most 20'))
      .optional()
      .meta({ description: 'How many clips (default 3, max 20)' }),
    min_duration: seconds('min_duration').meta({ description: 'Shortest clip, seconds (default 6)' }),
    max_duration: seconds('max_duration').meta({ description: 'Longest clip, seconds (default 12)' }),
  })
  .superRefine((q, ctx) => {
    if ((q.min_duration ?? DEFAULT_WINDOW.min) > (q.max_duration ?? DEFAULT_WINDOW.max))
      ctx.addIssue({ code: 'custom', path: ['min_duration'], message: 'min_duration is above max_duration' });
  });

const SpeakerParamSchema = TaskIdParamSchema.extend({ speaker_id: z.string().max(200).meta({ description: 'The speaker id (a LibriTTS reader id)' }) });

const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;

/** The per-speaker summary, and one speaker with the clips to clone its voice from. */
export function speakerRoutes(deps: AppDeps): Hono {
  const { reader, results: store } = deps;
  const app = new Hono();

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

  app.get(
    '/scan-speakers/:task_id/:speaker_id',
    describe({
      tag: 'results',
      summary: 'One speaker, with the clips to clone its voice from',
      description:
        'Reference clips are the speaker’s best utterances to clone a voice from, best first. Eligible: no error, a transcript, no clipped sample, ' +
        'peak ≤ −1 dBFS, RMS ≥ −40 dBFS, leading plus trailing silence ≤ 1 s, and a duration within the window; among them the higher snr_db ' +
        'first. When none is eligible the list holds the closest, with `eligible: false` and why. Header-only scans rank by duration alone.',
      responses: { 200: json(SpeakerDetailSchema, 'The speaker'), ...errors(400, 404) },
    }),
    validate('param', SpeakerParamSchema),
    validate('query', SpeakerQuerySchema),
    async (c) => {
      const { snapshot } = await findTask(reader, c.req.param('task_id'));
      const id = snapshot.task_id;
      const speakerId = c.req.param('speaker_id');
      const q = c.req.valid('query');
      const rows: FileResult[] = [];
      for await (const r of allRows(store, id, { speaker_id: [speakerId] }, { key: 'path', desc: false })) if (r.speaker_id === speakerId) rows.push(r);
      if (!rows.length) throw new AppError(404, 'SPEAKER_NOT_FOUND', `Speaker ${speakerId} has no results in task ${id}`);
      const info = await store.speaker(id, speakerId);
      const header = snapshot.analysis === 'header';
      const window = { min: q.min_duration ?? DEFAULT_WINDOW.min, max: q.max_duration ?? DEFAULT_WINDOW.max };
      const good = rows.filter((r) => !r.error);
      const snrs = good.flatMap((r) => (r.snr_db === null ? [] : [r.snr_db])).sort((a, b) => a - b);
      const mid = snrs.length >> 1;
      const body: SpeakerDetail = {
        task_id: id,
        speaker_id: speakerId,
        name: info?.name ?? null,
        gender: info?.gender ?? null,
        subsets: [...new Set(rows.flatMap((r) => (r.subset ? [r.subset] : [])))].sort(),
        utterances: good.length,
        failed: rows.length - good.length,
        duration_s: round(good.reduce((n, r) => n + (r.duration_s ?? 0), 0)),
        median_snr_db: snrs.length ? round(snrs.length % 2 ? snrs[mid]! : (snrs[mid - 1]! + snrs[mid]!) / 2, 1) : null,
        reference_clip: info?.reference_clip ?? null,
        quality: header ? 'header' : 'full',
        reference_clips: pickReferences(rows, q.n ?? 3, window, header).map((p) => ({
          path: p.row.path,
          duration_s: p.row.duration_s,
          snr_db: p.row.snr_db,
          peak_dbfs: p.row.peak_dbfs,
          rms_dbfs: p.row.rms_dbfs,
          clipped_samples: p.row.clipped_samples,
          text_normalized: p.row.text_normalized,
          score: p.score,
          eligible: p.eligible,
          why: p.why,
          audio_url: `${BASE}/scan-audio/${id}?path=${encodeURIComponent(p.row.path)}`,
        })),
      };
      c.header('Cache-Control', 'no-store');
      return c.json(body);
    },
  );

  return app;
}
