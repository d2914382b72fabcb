import path from 'node:path';
import { z } from 'zod';

/** POST /scan-libritts body. */
export const ScanRequestSchema = z
  .object({
    libritts_path: z
      .string({ error: 'libritts_path is required and must be a string' })
      .min(1, 'libritts_path must not be empty')
      .max(4096, 'libritts_path is longer than 4096 characters')
      .refine((p) => !p.includes('\0'), 'libritts_path must not contain NUL bytes')
      .refine((p) => path.isAbsolute(p), 'libritts_path must be an absolute path'),
    analysis: z.enum(['header', 'full'], { error: 'analysis must be "header" or "full"' }).default('full'),
    subsets: z
      .array(
        z
          .string()
          .min(1, 'a subset name must not be empty')
          .max(255)
          .refine((s) => !/[/\\\0]/.test(s) && s !== '.' && s !== '..', 'a subset is a folder name, not a path'),
      )
      .max(100, 'at most 100 subsets')
      .optional(),
  })
  .strict();

export type ScanRequestBody = z.output<typeof ScanRequestSchema>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The task id in a route's path. Any string passes here: an id that is not a UUID is simply an
 * unknown task (404 TASK_NOT_FOUND, as the contract says), not a validation failure.
 */
export const TaskIdParamSchema = z.object({
  task_id: z.string().meta({ description: 'The task id: a UUID, in any letter case', example: '3f0c2a5e-6d7b-4c1e-9a8f-0123456789ab' }),
});
export const isTaskId = (s: string): boolean => UUID.test(s);

const intParam = (min: number, max: number, dflt: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .optional()
    .transform((v) => v ?? dflt);

export const ResultsQuerySchema = z.object({
  limit: intParam(1, 1000, 100),
  cursor: z
    .string()
    .max(8192)
    .optional()
    .transform((c, ctx) => {
      if (c === undefined || c === '') return undefined;
      const decoded = /^[A-Za-z0-9_-]+$/.test(c) ? Buffer.from(c, 'base64url').toString('utf8') : '';
      if (!decoded.startsWith('p:')) {
        ctx.addIssue({ code: 'custom', message: 'cursor is not one this server issued' });
        return z.NEVER;
      }
      return decoded.slice(2);
    }),
  only: z.enum(['failed', 'ok'], { error: 'only must be "failed" or "ok"' }).optional(),
  format: z.enum(['json', 'jsonl', 'csv'], { error: 'format must be "json", "jsonl" or "csv"' }).optional(),
});

export const encodeCursor = (lastPath: string): string => Buffer.from(`p:${lastPath}`, 'utf8').toString('base64url');

export const ListQuerySchema = z.object({
  status: z.enum(['queued', 'running', 'completed', 'failed', 'cancelled'], { error: 'status must be one of queued, running, completed, failed, cancelled' }).optional(),
  limit: intParam(1, 500, 50),
});

export const EventsQuerySchema = z.object({
  last_event_id: z
    .string()
    .regex(/^\d{1,15}$/, 'last_event_id must be a whole number')
    .transform(Number)
    .optional(),
  access_token: z.string().optional(),
});
