import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { StorageFullError, StoreUnavailableError } from './store/types.ts';
import { QueueFullError, QueueUnavailableError, ShuttingDownError, TaskNotFoundError, TaskStateError } from './tasks/errors.ts';

/** How long a client should wait before retrying after an outage of Redis or PostgreSQL. */
const OUTAGE_RETRY_AFTER_S = 5;
/** …and after a full disk, which someone has to free: longer. */
const STORAGE_FULL_RETRY_AFTER_S = 60;

/** Stable, machine-readable error codes of the HTTP contract (API.md "Errors"). */
export const ERROR_CODES = [
  'INVALID_JSON',
  'VALIDATION_FAILED',
  'PATH_NOT_FOUND',
  'NOT_A_DIRECTORY',
  'UNAUTHORIZED',
  'PATH_NOT_ALLOWED',
  'NOT_FOUND',
  'TASK_NOT_FOUND',
  'SPEAKER_NOT_FOUND',
  'FILE_NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'TASK_NOT_ACTIVE',
  'TASK_ACTIVE',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RANGE_NOT_SATISFIABLE',
  'TOO_MANY_TASKS',
  'TOO_MANY_STREAMS',
  'SHUTTING_DOWN',
  'QUEUE_UNAVAILABLE',
  'STORE_UNAVAILABLE',
  'STORAGE_FULL',
  'INTERNAL_ERROR',
  // Refused by Node's HTTP parser before any route (http/client-errors.ts): 400, 431, 408.
  'MALFORMED_REQUEST',
  'HEADERS_TOO_LARGE',
  'REQUEST_TIMEOUT',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const ValidationIssueSchema = z.object({
  path: z.string().describe('Where the problem is: a body field (`libritts_path`), a query parameter, or `(body)` / `(query)`'),
  message: z.string(),
});
export type ValidationIssue = z.infer<typeof ValidationIssueSchema>;

/** The one error body shape of the API. */
export const ErrorBodySchema = z
  .object({
    detail: z.string().describe('The human sentence (the key FastAPI clients read)'),
    code: z.enum(ERROR_CODES).describe('Stable and machine-readable: match on this, never on `detail`'),
    issues: z.array(ValidationIssueSchema).describe('Validation failures only; empty otherwise'),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** An error that knows its HTTP response; thrown anywhere below a route, rendered in one place. */
export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode,
    readonly detail: string,
    readonly issues: ValidationIssue[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }

  toBody(): ErrorBody {
    return { detail: this.detail, code: this.code, issues: this.issues };
  }
}

export const taskNotFound = (id: string): AppError => new AppError(404, 'TASK_NOT_FOUND', `Task not found: ${id}`);

/** Maps anything thrown in a handler to the contract's error shape; never leaks a stack. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof TaskNotFoundError) return taskNotFound(err.taskId);
  if (err instanceof TaskStateError) {
    return err.active ? new AppError(409, 'TASK_ACTIVE', err.message) : new AppError(409, 'TASK_NOT_ACTIVE', err.message);
  }
  if (err instanceof ShuttingDownError) {
    return new AppError(503, 'SHUTTING_DOWN', 'The server is shutting down; retry shortly', [], { 'Retry-After': '5' });
  }
  if (err instanceof QueueFullError) {
    return new AppError(429, 'TOO_MANY_TASKS', 'Too many scans are queued; retry later', [], { 'Retry-After': String(err.retryAfterS) });
  }
  if (err instanceof QueueUnavailableError) {
    return new AppError(503, 'QUEUE_UNAVAILABLE', 'The task queue (Redis) is unreachable; retry shortly', [], { 'Retry-After': String(OUTAGE_RETRY_AFTER_S) });
  }
  if (err instanceof StoreUnavailableError) {
    return new AppError(503, 'STORE_UNAVAILABLE', 'The task store (PostgreSQL) is unreachable; retry shortly', [], { 'Retry-After': String(OUTAGE_RETRY_AFTER_S) });
  }
  if (err instanceof StorageFullError) {
    // Not a 500: nothing is broken, the service's disk (or PostgreSQL's) is full. What was recorded stays.
    return new AppError(507, 'STORAGE_FULL', `${err.message}; free disk space and retry`, [], { 'Retry-After': String(STORAGE_FULL_RETRY_AFTER_S) });
  }
  if (err instanceof HTTPException) {
    if (err.status === 413) return new AppError(413, 'PAYLOAD_TOO_LARGE', 'Request body is too large');
    if (err.status === 401) return new AppError(401, 'UNAUTHORIZED', 'Missing or invalid bearer token');
    if (err.status === 400) return new AppError(400, 'INVALID_JSON', 'Request body is not valid JSON');
    return new AppError(err.status as ContentfulStatusCode, 'INTERNAL_ERROR', err.message || 'Request failed');
  }
  return new AppError(500, 'INTERNAL_ERROR', 'Internal server error');
}

export function errorResponse(c: Context, err: AppError): Response {
  for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
  return c.json(err.toBody(), err.status);
}
