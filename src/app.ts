import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
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
import { speakerRoutes } from './http/speakers.ts';
import { audioRoutes } from './http/audio.ts';
import { exportRoutes } from './http/export.ts';
import { contractCheck } from './http/contract-check.ts';
import { docsRoutes } from './http/docs.ts';
import { describe, json, openApiDocument, other } from './http/openapi.ts';
import { HealthSchema, type Health } from './http/responses.ts';

declare module 'hono' {
  /** What a request carries through the middleware. */
  interface ContextVariableMap {
    requestId: string;
  }
}

export const PUBLIC_DIR = fileURLToPath(new URL('../public', import.meta.url));

/**
 * The methods each route answers, read from the app's own routing table (so a new route needs
 * no second list): for 405s with an `Allow` header. GET routes answer HEAD too.
 */
function allowedMethods(app: Hono): Map<string, string[]> {
  const byPath = new Map<string, Set<string>>();
  for (const r of app.routes) {
    if (r.method === 'ALL' || r.path.includes('*')) continue; // middleware
    const set = byPath.get(r.path) ?? new Set<string>();
    set.add(r.method);
    if (r.method === 'GET') set.add('HEAD');
    byPath.set(r.path, set);
  }
  const order = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
  return new Map([...byPath].map(([p, m]) => [p, [...m].sort((a, b) => order.indexOf(a) - order.indexOf(b))]));
}

/** Builds the HTTP application; never listens, so tests drive it with `app.request`. */
export function createApp(deps: AppDeps): Hono {
  const { logger, config, queue, metrics } = deps;
  const app = new Hono();

  const document = openApiDocument(app);

  // Request ids, one log line per request, and the HTTP metrics by route pattern (never the raw
  // path, whose ids would make a new series per task).
  app.use('*', async (c, next) => {
    const requestId = c.req.header('x-request-id')?.slice(0, 100) || randomUUID();
    const started = performance.now();
    c.set('requestId', requestId);
    c.header('X-Request-Id', requestId);
    await next();
    const seconds = (performance.now() - started) / 1000;
    const route = c.req.routePath === '/*' ? (c.res.status === 404 ? 'unmatched' : 'static') : c.req.routePath;
    metrics.httpRequests.inc({ method: c.req.method, route, status: String(c.res.status) });
    metrics.httpDuration.observe({ method: c.req.method, route }, seconds);
    logger.info('request', {
      request_id: requestId,
      method: c.req.method,
      path: c.req.path, // path only: the query may carry an access token
      status: c.res.status,
      ms: Math.round(seconds * 10_000) / 10,
    });
  });

  // Hono answers HEAD by running the GET handler and dropping its body without cancelling it.
  // Cancel it here, so that no streaming route (events, exports) keeps producing for nobody.
  app.use('*', async (c, next) => {
    await next();
    if (c.req.method === 'HEAD' && c.res.body) await c.res.body.cancel().catch(() => {});
  });

  // Tests run with CONTRACT_CHECK=1: every response is checked against the OpenAPI document.
  if (config.CONTRACT_CHECK) app.use('*', contractCheck(document, logger));

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
        // Range and its answers: a player on another origin seeks in scan-audio with them.
        allowHeaders: ['Authorization', 'Content-Type', 'Last-Event-ID', 'If-None-Match', 'Range'],
        exposeHeaders: ['ETag', 'Location', 'Retry-After', 'X-Request-Id', 'Content-Range', 'Accept-Ranges', 'Content-Length', 'Content-Disposition'],
        maxAge: 600,
      }),
    );
  }

  // Liveness: this process answers. A store or queue that is away is reported, not failed on.
  app.get(
    '/healthz',
    describe({ tag: 'operations', auth: 'none', summary: 'Liveness, and the queue', responses: { 200: json(HealthSchema, 'This process answers') } }),
    async (c) => {
      let body: Health;
      try {
        body = { status: 'ok', ...(await queue.depth()) };
      } catch (err) {
        body = { status: 'degraded', detail: toAppError(err).detail };
      }
      return c.json(body);
    },
  );
  app.get(
    '/metrics',
    describe({
      tag: 'operations',
      summary: 'Prometheus metrics of this process',
      responses: { 200: other('Prometheus text format', { 'text/plain': { schema: { type: 'string' } } }) },
    }),
    bearerAuth(config.API_TOKEN),
    async (c) => c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType }),
  );
  app.get(
    '/api/openapi.json',
    describe({
      tag: 'operations',
      auth: 'none',
      summary: 'This OpenAPI 3.1 document',
      responses: { 200: other('The document', { 'application/json': { schema: { type: 'object' } } }) },
    }),
    async (c) => c.json(await document()),
  );
  app.route('/', docsRoutes());

  app.use(`${BASE}/*`, bearerAuth(config.API_TOKEN));
  app.route(BASE, scanRoutes(deps));
  app.route(BASE, eventRoutes(deps));
  app.route(BASE, resultRoutes(deps));
  app.route(BASE, speakerRoutes(deps));
  app.route(BASE, audioRoutes(deps));
  app.route(BASE, exportRoutes(deps));

  for (const [path, methods] of allowedMethods(app)) {
    app.all(path, (c) => {
      c.header('Allow', methods.join(', '));
      return errorResponse(c, new AppError(405, 'METHOD_NOT_ALLOWED', `Method ${c.req.method} is not allowed here; use ${methods.join(', ')}`));
    });
  }

  // The dashboard's files are routes too: another method than GET or HEAD is a 405, as on the API.
  const dashboard = new Set(['/', ...fs.readdirSync(PUBLIC_DIR).map((f) => `/${f}`)]);
  app.all('/*', async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || !dashboard.has(c.req.path)) return next();
    c.header('Allow', 'GET, HEAD');
    return errorResponse(c, new AppError(405, 'METHOD_NOT_ALLOWED', `Method ${c.req.method} is not allowed here; use GET, HEAD`));
  });
  app.use('/*', serveStatic({ root: PUBLIC_DIR }));

  app.notFound((c) => errorResponse(c, new AppError(404, 'NOT_FOUND', `No route for ${c.req.method} ${c.req.path}`)));
  app.onError((err, c) => {
    const appErr = toAppError(err);
    if (appErr.status >= 500) logger.error('unhandled error', { request_id: c.get('requestId'), path: c.req.path, error: err instanceof Error ? err.stack : String(err) });
    return errorResponse(c, appErr);
  });
  return app;
}
