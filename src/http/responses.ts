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
    next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last one'),
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
