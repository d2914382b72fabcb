import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import { AppError, errorResponse, toAppError } from './errors.ts';
import { bearerAuth } from './http/auth.ts';
import { BASE, type AppDeps } from './http/deps.ts';
import { eventRoutes } from './http/events.ts';
import { resultRoutes } from './http/results.ts';
import { scanRoutes } from './http/scans.ts';

export const PUBLIC_DIR = fileURLToPath(new URL('../public', import.meta.url));

/** Every route and the methods it answers, for 405s with an `Allow` header. */
const ROUTES: [string, string[]][] = [
  [`${BASE}/scan-libritts`, ['POST']],
  [`${BASE}/scan-status/:task_id`, ['GET']],
  [`${BASE}/scan-events/:task_id`, ['GET']],
  [`${BASE}/scan-results/:task_id`, ['GET']],
  [`${BASE}/scan-speakers/:task_id`, ['GET']],
  [`${BASE}/scans`, ['GET']],
  [`${BASE}/scan-cancel/:task_id`, ['POST']],
  [`${BASE}/scans/:task_id`, ['DELETE']],
  ['/healthz', ['GET']],
];

/** Builds the HTTP application; never listens, so tests drive it with `app.request`. */
export function createApp(deps: AppDeps): Hono {
  const { logger, config, runner } = deps;
  const app = new Hono();

  app.use('*', async (c, next) => {
    const requestId = c.req.header('x-request-id')?.slice(0, 100) || randomUUID();
    const started = performance.now();
    c.header('X-Request-Id', requestId);
    await next();
    logger.info('request', {
      request_id: requestId,
      method: c.req.method,
      path: c.req.path, // path only: the query may carry an access token
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    });
  });

  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      crossOriginEmbedderPolicy: false,
    }),
  );
  // CORS is off unless CORS_ORIGINS names who may call the API from another origin.
  if (config.CORS_ORIGINS.length) {
    app.use(
      `${BASE}/*`,
      cors({
        origin: config.CORS_ORIGINS.includes('*') ? '*' : config.CORS_ORIGINS,
        allowMethods: ['GET', 'POST', 'DELETE'],
        allowHeaders: ['Authorization', 'Content-Type', 'Last-Event-ID', 'If-None-Match'],
        exposeHeaders: ['ETag', 'Location', 'Retry-After', 'X-Request-Id'],
        maxAge: 600,
      }),
    );
  }

  app.get('/healthz', (c) => c.json({ status: 'ok', ...runner.counts }));

  app.use(`${BASE}/*`, bearerAuth(config.API_TOKEN));
  app.route(BASE, scanRoutes(deps));
  app.route(BASE, eventRoutes(deps));
  app.route(BASE, resultRoutes(deps));

  for (const [path, methods] of ROUTES) {
    app.all(path, (c) => {
      c.header('Allow', methods.join(', '));
      return errorResponse(c, new AppError(405, 'METHOD_NOT_ALLOWED', `Method ${c.req.method} is not allowed here; use ${methods.join(', ')}`));
    });
  }

  app.use('/*', serveStatic({ root: PUBLIC_DIR }));

  app.notFound((c) => errorResponse(c, new AppError(404, 'NOT_FOUND', `No route for ${c.req.method} ${c.req.path}`)));
  app.onError((err, c) => {
    const appErr = toAppError(err);
    if (appErr.status >= 500) logger.error('unhandled error', { path: c.req.path, error: err instanceof Error ? err.stack : String(err) });
    return errorResponse(c, appErr);
  });
  return app;
}
