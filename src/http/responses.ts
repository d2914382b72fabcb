import { z } from 'zod';
import { FileResultSchema } from '../domain/file-result.ts';
import { TaskSnapshotSchema } from '../domain/task.ts';

/**
 * The zod schemas of every JSON response body. They are the OpenAPI document's response
 * schemas (openapi.ts), the TypeScript types the handlers build (so a body cannot drift from
 * its document), and what the contract check validates every response against in tests.
 */

export const TaskSnapshot = TaskSnapshotSchema.meta({ id: 'TaskSnapshot', description: 'The task snapshot: the body of scan-status and the data of every SSE event' });

export const AcceptedSchema = z
  .object({
    task_id: z.string(),
    status: z.literal('accepted'),
    message: z.string(),
    status_url: z.string(),
    events_url: z.string(),
    results_url: z.string(),
  })
  .meta({ id: 'Accepted' });
export type Accepted = z.infer<typeof AcceptedSchema>;

export const TaskListSchema = z.object({ items: z.array(TaskSnapshot) }).meta({ id: 'TaskList' });

export const FileResult = FileResultSchema.meta({ id: 'FileResult' });

export const ResultsPageSchema = z
  .object({
    items: z.array(FileResult),
    next_cursor: z.string().nullable().describe('Pass as `cursor` (with the same filters and sort) for the next page; null on the last one'),
    total: z.number().int().describe('Rows matching the filters'),
  })
  .meta({ id: 'ResultsPage' });
export type ResultsPage = z.infer<typeof ResultsPageSchema>;

export const SpeakerSchema = z
  .object({
    speaker_id: z.string(),
    name: z.string().nullable(),
    gender: z.string().nullable(),
    subsets: z.array(z.string()),
    utterances: z.number().int(),
    failed: z.number().int(),
    duration_s: z.number(),
    median_snr_db: z.number().nullable().describe('Median snr_db of the good clips (full analysis)'),
    reference_clip: z.string().nullable().describe('The path of the best reference clip by the default rules, or null'),
  })
  .meta({ id: 'Speaker' });

export const SpeakersSchema = z.object({ task_id: z.string(), items: z.array(SpeakerSchema) }).meta({ id: 'Speakers' });
export type Speakers = z.infer<typeof SpeakersSchema>;

export const HealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']).describe('`degraded`: this process answers, but its store or queue does not'),
    queued: z.number().int().optional(),
    running: z.number().int().optional(),
    detail: z.string().optional(),
  })
  .meta({ id: 'Health' });
export type Health = z.infer<typeof HealthSchema>;

export const ReferenceClipSchema = z
  .object({
    path: z.string(),
    duration_s: z.number().nullable(),
    snr_db: z.number().nullable(),
    peak_dbfs: z.number().nullable(),
    rms_dbfs: z.number().nullable(),
    clipped_samples: z.number().int().nullable(),
    text_normalized: z.string().nullable(),
    score: z.number().describe('0–1; see the README'),
    eligible: z.boolean().describe('false: no clip met the rules; this one is among the closest'),
    why: z.string().nullable().describe('What keeps it from being eligible'),
    audio_url: z.string().describe('The clip for an <audio> element (add `&as=pcm16` for any browser)'),
  })
  .meta({ id: 'ReferenceClip' });

export const SpeakerDetailSchema = SpeakerSchema.extend({
  task_id: z.string(),
  quality: z.enum(['full', 'header']).describe('`header`: a header-only scan; clips are ranked by duration alone'),
  reference_clips: z.array(ReferenceClipSchema),
}).meta({ id: 'SpeakerDetail' });
export type SpeakerDetail = z.infer<typeof SpeakerDetailSchema>;
