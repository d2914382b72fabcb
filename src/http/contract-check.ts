import type { Context, MiddlewareHandler } from 'hono';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { OpenAPIV3_1 } from 'openapi-types';
import type { Logger } from '../logger.ts';

/**
 * Checks every response against the OpenAPI document (CONTRACT_CHECK=1; the test suite runs with
 * it): the route and method must be documented, the status declared for them, the media type
 * declared for that status, and a JSON body must match its schema. A response that breaks the
 * contract is replaced by a 500 naming the breach, so whichever test received it fails. This is
 * what keeps the document true: a handler cannot answer what the document does not say.
 */

type Operation = OpenAPIV3_1.OperationObject;

/** `/scan-status/:task_id` (Hono) → `/scan-status/{task_id}` (OpenAPI). */
const toOpenApiPath = (p: string): string => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

class Checker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });
  private readonly validators = new Map<string, ValidateFunction>();

  /** Each documented path as a pattern, for answers given before a route matched (auth). */
  private readonly templates: [RegExp, string][];

  constructor(private readonly doc: OpenAPIV3_1.Document) {
    const escape = (s: string) => s.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&');
    this.templates = Object.keys(doc.paths ?? {}).map((p) => [
      new RegExp(
        `^${p
          .split(/\{[^}]+\}/)
          .map(escape)
          .join('[^/]+')}$`,
      ),
      p,
    ]);
  }

  /** The documented path of a request: its route's pattern, or the template its path fits. */
  private documentedPath(routePath: string, path: string): string {
    if (!routePath.includes('*')) return toOpenApiPath(routePath);
    return this.templates.find(([re]) => re.test(path))?.[1] ?? path;
  }

  private validator(key: string, schema: object): ValidateFunction {
    let v = this.validators.get(key);
    if (!v) {
      // Refs point at `#/components/...` of the document: carry the components along.
      v = this.ajv.compile({ ...schema, components: this.doc.components });
      this.validators.set(key, v);
    }
    return v;
  }

  private errorSchema(): object {
    return { $ref: '#/components/schemas/Error' };
  }

  /** The breach of contract of one response, or null. */
  async check(method: string, routePath: string, requestPath: string, res: Response): Promise<string | null> {
    // A CORS preflight is answered by the CORS middleware, for any route: not an operation.
    if (method === 'OPTIONS') return null;
    const path = this.documentedPath(routePath, requestPath);
    const verb = (method === 'HEAD' ? 'get' : method.toLowerCase()) as OpenAPIV3_1.HttpMethods;
    const op = (this.doc.paths?.[path] as Record<string, Operation> | undefined)?.[verb];
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (!op) {
      // Answers of no operation: the 404 of an unknown route, the 405 of a known one, files, and
      // the 401 of any /api path asked without the token (authentication runs before routing).
      if (res.status === 404 || res.status === 405 || res.status === 401) return this.body(`error:${res.status}`, this.errorSchema(), res, method);
      if (path.startsWith('/api/')) return `${method} ${path} answered ${res.status} but is not in the document`;
      return null;
    }
    const declared = (op.responses?.[String(res.status)] ?? op.responses?.default) as OpenAPIV3_1.ResponseObject | undefined;
    if (!declared) return `${method} ${path} answered ${res.status}, a status its document does not declare`;
    if (!res.body || method === 'HEAD' || res.status === 204 || res.status === 304) return null;
    const media = declared.content?.[type];
    if (!media) return `${method} ${path} ${res.status} answered ${type || 'no content type'}, which its document does not declare`;
    if (type !== 'application/json' || !media.schema) return null;
    return this.body(`${verb} ${path} ${res.status}`, media.schema as object, res, method);
  }

  private async body(key: string, schema: object, res: Response, method: string): Promise<string | null> {
    if (method === 'HEAD' || !res.body) return null;
    let body: unknown;
    try {
      body = await res.clone().json();
    } catch {
      return `${key}: the body is not JSON`;
    }
    const v = this.validator(key, schema);
    if (v(body)) return null;
    const e = v.errors?.[0];
    return `${key}: body does not match its schema at ${e?.instancePath || '/'}: ${e?.message ?? 'invalid'}`;
  }
}

/** The middleware; `document` builds the OpenAPI document of the app (openapi.ts). */
export function contractCheck(document: () => Promise<OpenAPIV3_1.Document>, logger: Logger): MiddlewareHandler {
  let checker: Promise<Checker> | null = null;
  return async (c: Context, next) => {
    await next();
    checker ??= document().then((doc) => new Checker(doc));
    const breach = await (await checker).check(c.req.method, c.req.routePath, c.req.path, c.res);
    if (!breach) return;
    logger.error('contract violation', { breach });
    c.res = new Response(JSON.stringify({ detail: `Contract violation: ${breach}`, code: 'INTERNAL_ERROR', issues: [] }), {
      status: 500,
      headers: { 'content-type': 'application/json' },
    });
  };
}
