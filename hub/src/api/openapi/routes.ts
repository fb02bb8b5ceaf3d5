import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import { renderDocsPage } from './docs-page.js';
import { buildOpenApiDocument, type OpenApiDocument } from './document.js';
import type { ApiOperation } from './operation.js';
import { API_OPERATIONS } from './operations.js';

export interface OpenApiRoutesOptions {
  /** Default: every operation of the hub (operations.ts). */
  operations?: readonly ApiOperation[];
}

/**
 * `GET /openapi.json` (the OpenAPI 3.1 document, from the routes' zod schemas) and `GET /docs` (the
 * same as a self-contained HTML page). Public: no token (access.ts PUBLIC_DOC_PATHS). Both are
 * built once, on first request.
 */
export function openApiRoutes({ operations = API_OPERATIONS }: OpenApiRoutesOptions = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  let doc: OpenApiDocument | undefined;
  let json: string | undefined;
  let page: string | undefined;
  const document = (): OpenApiDocument => (doc ??= buildOpenApiDocument(operations));
  app.get('/openapi.json', (c) => {
    json ??= JSON.stringify(document());
    return c.body(json, 200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-cache' });
  });
  app.get('/docs', (c) => {
    page ??= renderDocsPage(document());
    return c.html(page, 200, { 'Cache-Control': 'no-cache', 'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'" });
  });
  return app;
}
