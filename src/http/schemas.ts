import { createHmac, randomBytes } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { TRAINING_FORMAT_NAMES } from '../export/registry.ts';
import { FILTER_KEYS, MAX_SEARCH_WORDS, SORT_KEYS, wordsOf, type ResultCursor, type ResultFilter, type ResultSort, type SortKey } from '../store/result-query.ts';

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
      // An empty list restricts to nothing: refused rather than read as "the whole tree".
      .min(1, 'subsets must name at least one folder (leave it out to scan the whole tree)')
      .max(100, 'at most 100 subsets')
      .optional(),
    reuse: z.enum(['auto', 'none'], { error: 'reuse must be "auto" or "none"' }).default('auto').meta({
      description:
        '`auto`: copy the rows of files unchanged since the latest completed scan of the same root (same or richer analysis) instead of reading them; `none`: read everything',
    }),
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

const list = (name: string) =>
  z
    .string()
    .max(20_000)
    .transform((v, ctx) => {
      const items = v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      if (!items.length || items.length > 500) {
        ctx.addIssue({ code: 'custom', message: `${name} must be 1 to 500 comma-separated values` });
        return z.NEVER;
      }
      return items;
    })
    .optional()
    .meta({ description: `Equal to one of these comma-separated values` });

const decimal = (name: string) =>
  z
    .string()
    .regex(/^-?\d{1,9}(\.\d{1,9})?$/, `${name} must be a decimal number`)
    .transform(Number)
    .optional();

/** A sort: a key, optionally after `-` for descending. */
const SORT_RE = new RegExp(`^-?(${SORT_KEYS.join('|')})$`);

/** The result filters of API.md ("scan-results"): for pages, `format=jsonl|csv` and /scan-export. */
export const ResultFilterSchema = z.object({
  speaker_id: list('speaker_id'),
  subset: list('subset'),
  chapter_id: list('chapter_id'),
  min_duration: decimal('min_duration').meta({ description: '`duration_s` at least this (seconds, inclusive)' }),
  max_duration: decimal('max_duration').meta({ description: '`duration_s` at most this (seconds, inclusive)' }),
  min_snr_db: decimal('min_snr_db').meta({ description: '`snr_db` at least this; rows without snr_db are left out' }),
  max_peak_dbfs: decimal('max_peak_dbfs').meta({ description: '`peak_dbfs` at most this' }),
  clipped: z
    .enum(['true', 'false'], { error: 'clipped must be "true" or "false"' })
    .transform((v) => v === 'true')
    .optional()
    .meta({ description: '`false`: clipped_samples = 0; `true`: > 0' }),
  q: z
    .string()
    .min(1, 'q must not be empty')
    .max(500, 'q is longer than 500 characters')
    .refine((v) => /[\p{L}\p{N}]/u.test(v), 'q must hold a word (letters or digits)')
    // Refused rather than cut: a search that ignored its last words would find rows without them.
    .refine((v) => wordsOf(v).length <= MAX_SEARCH_WORDS, `q holds more than ${MAX_SEARCH_WORDS} words`)
    .optional()
    .meta({ description: 'Every word must occur as a word in text_normalized or text_original, case-insensitive' }),
  only: z.enum(['failed', 'ok'], { error: 'only must be "failed" or "ok"' }).optional(),
  sort: z
    .string()
    .regex(SORT_RE, `sort must be one of ${SORT_KEYS.join(', ')}, each optionally after "-"`)
    .optional()
    .meta({ description: 'A leading `-` sorts descending; ties by path (in the same direction); rows without the key last' }),
});

/** A duration window that holds nothing is a mistake worth a 400, as on scan-speakers. */
function checkDurations(q: { min_duration?: number | undefined; max_duration?: number | undefined }, ctx: z.RefinementCtx): void {
  if (q.min_duration !== undefined && q.max_duration !== undefined && q.min_duration > q.max_duration) {
    ctx.addIssue({ code: 'custom', path: ['min_duration'], message: 'min_duration is above max_duration' });
  }
}

/** The filter and sort of a validated query, in the store's terms. */
export function resultFilterOf(q: z.output<typeof ResultFilterSchema>): { filter: ResultFilter; sort: ResultSort } {
  // Only the filter's own keys: a stray `limit` or `cursor` would make every plain page a filtered one.
  const filter: ResultFilter = {};
  for (const k of FILTER_KEYS) if (q[k as keyof typeof q] !== undefined) (filter as Record<string, unknown>)[k] = q[k as keyof typeof q];
  const s = q.sort ?? 'path';
  return { filter, sort: { key: s.replace(/^-/, '') as SortKey, desc: s.startsWith('-') } };
}

const CursorSchema = z.object({
  s: z.string(),
  v: z.union([z.number(), z.string(), z.null()]),
  p: z.string(),
  /** The total of an ended task's filter, and a digest of that filter: later pages skip the count. */
  t: z.number().int().nonnegative().optional(),
  f: z.string().optional(),
});

/**
 * A process's key for cursor totals: a total a client could forge would be reported as the
 * task's, and would pick the store's plan (a small one reads every match and sorts it: 1–3 ms
 * became ~80 ms a page at 200k rows). A cursor from another process, or from before a restart,
 * carries a total that is not trusted: that page counts again.
 */
const CURSOR_KEY = randomBytes(32);

/**
 * A short keyed digest of a total, its task and its filter: whether a cursor's total is the one
 * this process counted for this query. The task counts too: a cursor of one task, reused on
 * another with the same filter, carried the first's total.
 */
export const totalDigest = (total: number, task: string, filter: ResultFilter): string =>
  createHmac('sha256', CURSOR_KEY)
    .update(JSON.stringify([total, task, Object.entries(filter).filter(([, v]) => v !== undefined)]))
    .digest('base64url')
    .slice(0, 22);

/**
 * Cursors are opaque to clients: the sort they belong to, the last row's sort value and path, and
 * for an ended task (whose rows no longer change) the total with the filter it counts.
 */
export function encodeCursor(sort: ResultSort, c: ResultCursor, total?: { total: number; task: string; filter: ResultFilter }): string {
  const body = { s: `${sort.desc ? '-' : ''}${sort.key}`, v: c.value, p: c.path, ...(total ? { t: total.total, f: totalDigest(total.total, total.task, total.filter) } : {}) };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

export const ResultsQuerySchema = ResultFilterSchema.extend({
  limit: intParam(1, 1000, 100),
  cursor: z
    .string()
    .max(8192)
    .optional()
    .transform((c, ctx) => {
      if (c === undefined || c === '') return undefined;
      const decoded = /^[A-Za-z0-9_-]+$/.test(c) ? Buffer.from(c, 'base64url').toString('utf8') : '';
      // v1 cursors: `p:<path>`, paging by path.
      if (decoded.startsWith('p:')) return { s: 'path', v: null, p: decoded.slice(2) };
      let parsed: unknown;
      try {
        parsed = JSON.parse(decoded);
      } catch {
        parsed = null;
      }
      const ok = CursorSchema.safeParse(parsed);
      if (!ok.success) {
        ctx.addIssue({ code: 'custom', message: 'cursor is not one this server issued' });
        return z.NEVER;
      }
      return ok.data;
    }),
  format: z.enum(['json', 'jsonl', 'csv'], { error: 'format must be "json", "jsonl" or "csv"' }).optional(),
  access_token: z.string().optional().meta({ description: 'API_TOKEN, for a download link that cannot send headers' }),
}).superRefine((q, ctx) => {
  checkDurations(q, ctx);
  if (q.cursor && q.cursor.s !== (q.sort ?? 'path')) ctx.addIssue({ code: 'custom', path: ['cursor'], message: 'cursor belongs to another sort order; start again without it' });
});

/** GET /scan-export: a training format, the result filters (failed rows are never exported), where paths go and which text. */
export const ExportQuerySchema = ResultFilterSchema.omit({ only: true })
  .extend({
    format: z.enum(TRAINING_FORMAT_NAMES, { error: `format must be one of ${TRAINING_FORMAT_NAMES.join(', ')}` }).meta({ description: 'The manifest format (API.md table)' }),
    path_prefix: z
      .string()
      .max(4096, 'path_prefix is longer than 4096 characters')
      .refine((p) => path.posix.isAbsolute(p), 'path_prefix must be an absolute path')
      // Every line break a manifest's line-safety check knows (export/text.ts lineSafe): Python's
      // splitlines() breaks Kaldi and CSV lines at U+2028, U+2029 and U+0085 too.
      .refine((p) => !/[\0\r\n\u2028\u2029\u0085]/.test(p), 'path_prefix must not contain NUL or line breaks')
      .optional()
      .meta({ description: 'Write absolute paths under this root instead of the scanned one (the training machine’s mount)' }),
    text: z
      .enum(['normalized', 'original'], { error: 'text must be "normalized" or "original"' })
      .default('normalized')
      .meta({ description: 'Which transcript the text column carries' }),
    access_token: z.string().optional().meta({ description: 'API_TOKEN, for a download link that cannot send headers' }),
  })
  .superRefine(checkDurations);

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
