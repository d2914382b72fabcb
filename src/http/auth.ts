import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors.ts';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Bearer-token check for every /api route when API_TOKEN is set. Compares digests in constant
 * time; the events and audio routes also take `?access_token=` (EventSource and <audio> cannot set headers).
 */
export function bearerAuth(token: string | undefined): MiddlewareHandler {
  if (!token) return async (_c, next) => next();
  const expected = digest(token);
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    let given = m?.[1]?.trim();
    // EventSource and <audio> cannot set headers: these two routes also take the token in the query.
    if (!given && /\/(scan-events|scan-audio)\//.test(c.req.path)) given = c.req.query('access_token');
    if (!given || !timingSafeEqual(digest(given), expected)) {
      throw new AppError(401, 'UNAUTHORIZED', 'Missing or invalid bearer token', [], { 'WWW-Authenticate': 'Bearer realm="voice-library"' });
    }
    await next();
  };
}
