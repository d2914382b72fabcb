import { createRequire } from 'node:module';
import path from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';

/** Swagger UI's own files, from node_modules: the page loads nothing from another origin. */
const SWAGGER_DIR = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

// No inline script: the page starts Swagger UI from a file, so the app's CSP (script-src 'self') holds.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>voice-library API reference</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<main id="api-reference"></main>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/start.js"></script>
</body>
</html>
`;

// validatorUrl null: Swagger UI would otherwise send the document to validator.swagger.io.
const START = `window.ui = SwaggerUIBundle({
  url: '/api/openapi.json',
  dom_id: '#api-reference',
  deepLinking: true,
  validatorUrl: null,
  tryItOutEnabled: false,
});
`;

/** The files of swagger-ui-dist the page loads (PAGE). */
const DOCS_ASSETS = new Set(['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png', 'favicon-16x16.png']);

/** `GET /docs`: the interactive API reference for `/api/openapi.json`. */
export function docsRoutes(): Hono {
  const app = new Hono();
  app.get('/docs', (c) => c.html(PAGE));
  app.get('/docs/start.js', (c) => c.body(START, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }));
  // The page's own files only: the whole package served its stock index.html (the petstore
  // page, with a URL bar), its package.json, source maps and OAuth redirect page.
  app.use('/docs/assets/*', async (c, next) => (DOCS_ASSETS.has(c.req.path.slice('/docs/assets/'.length)) ? next() : c.notFound()));
  app.use('/docs/assets/*', serveStatic({ root: SWAGGER_DIR, rewriteRequestPath: (p) => p.replace(/^\/docs\/assets/, '') }));
  return app;
}
