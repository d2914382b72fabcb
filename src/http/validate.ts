import type { MiddlewareHandler, ValidationTargets } from 'hono';
import { validator } from 'hono-openapi';
import type { ZodType } from 'zod';
import { AppError } from '../errors.ts';

type Target = 'json' | 'query' | 'param';

const WHERE: Record<Target, string> = { json: 'request body', query: 'query', param: 'path' };

/**
 * hono-openapi's validator (so that the schema is in the OpenAPI document) whose failures become
 * the contract's 400 VALIDATION_FAILED with `issues`, not the library's own body.
 */
export const validate = <T extends ZodType, K extends Target>(target: K, schema: T) =>
  validator(target as keyof ValidationTargets, schema, (result) => {
    if (result.success) return;
    const issues = result.error.map((i) => ({
      path: i.path?.length ? i.path.map((p) => String(typeof p === 'object' ? p.key : p)).join('.') : `(${target === 'json' ? 'body' : target})`,
      message: i.message,
    }));
    const first = issues[0]!;
    throw new AppError(400, 'VALIDATION_FAILED', `Invalid ${WHERE[target]}: ${first.path}: ${first.message}`, issues);
  });

const JSON_TYPE = /^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/i;

/** Demands a JSON body (415 otherwise) that parses (400 INVALID_JSON otherwise). */
export const requireJsonBody: MiddlewareHandler = async (c, next) => {
  const type = c.req.header('content-type') ?? '';
  if (!JSON_TYPE.test(type)) {
    throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', `Expected Content-Type: application/json, got ${type ? JSON.stringify(type.slice(0, 100)) : 'none'}`);
  }
  try {
    await c.req.json();
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError(400, 'INVALID_JSON', 'Request body is not valid JSON');
  }
  await next();
};
