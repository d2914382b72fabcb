import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors.ts';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Bearer-token check for every /api route when API_TOKEN is set. Compares digests in constant
 * time. The routes in QUERY_TOKEN_ROUTES also take `?access_token=`: EventSource and <audio>
 * cannot set headers, and a download the browser streams to disk itself is a plain link (a
 * download fetched with the header has to be held whole in the page's memory first). They are
 * the routes the OpenAPI document declares `bearer-or-query` (test/http/openapi.test.ts).
 */
export const QUERY_TOKEN_ROUTES = /\/(scan-events|scan-audio|scan-results|scan-export)\//;

export function bearerAuth(token: string | undefined): MiddlewareHandler {
  if (!token) return async (_c, next) => next();
  const expected = digest(token);
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    let given = m?.[1]?.trim();
    if (!given && QUERY_TOKEN_ROUTES.test(c.req.path)) given = c.req.query('access_token');
    if (!given || !timingSafeEqual(digest(given), expected)) {
      throw new AppError(401, 'UNAUTHORIZED', 'Missing or invalid bearer token', [], { 'WWW-Authenticate': 'Bearer realm="voice-library"' });
    }
    await next();
  };
}
