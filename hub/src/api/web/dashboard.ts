import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { AppEnv } from '../env.js';
import { DEFAULT_WEB_DIR, loadWebBuild, type WebBuild, type WebFile } from './build.js';
import { dashboardCsp, injectPageConfig, missingBuildPage, MISSING_PAGE_CSP, type PageConfig } from './page.js';

export interface WebDashboardOptions {
  /** The `vite build` output (default hub/dist/web). */
  dir?: string;
  /** Basemap settings handed to the page (config `map.*`); default no basemap. */
  map?: Partial<PageConfig>;
  logger?: Logger;
}

/** Paths the build can have: `/`, `/assets/…`, a top-level file with an extension. The rest (`/api/v1/…`, `/health`) never loads it. */
const MAYBE_FILE = /^\/$|^\/assets\/|^\/[^/]+\.[A-Za-z0-9]+$/;

const DEFAULT_MAP: PageConfig = { tilesUrl: '', tilesAttribution: '', tilesMaxZoom: 19 };

/**
 * The fleet dashboard (hub/web, docs/DASHBOARD.md): the files `vite build` wrote, served from memory
 * at their paths, `/` being index.html with the page config (the basemap) injected.
 *
 * A middleware, not routes: it answers GET and HEAD for exactly the files of the build and passes
 * everything else on, so `/api/v1`, `/health`, `/metrics`, `/openapi.json` and `/docs` are untouched,
 * and it needs no token (the page asks for one and sends it to `/api/v1`); the address allowlist
 * applies as to the API description. Hashed assets (`/assets/…`) are cached for a year
 * (`immutable`), the rest revalidated (`no-cache` + ETag); text goes gzipped when the client takes it.
 * Without a build, `/` is a short page saying how to make one, and the hub runs on.
 */
export function webDashboard({ dir = DEFAULT_WEB_DIR, map, logger }: WebDashboardOptions = {}): MiddlewareHandler<AppEnv> {
  const config: PageConfig = { ...DEFAULT_MAP, ...map };
  const csp = dashboardCsp(config.tilesUrl);
  let build: WebBuild | null = null;
  // Read on first use (then kept in memory): an app made for a test of another route never reads it.
  const load = (): WebBuild | null =>
    (build ??= loadWebBuild(dir, (path, body) => (path === '/index.html' ? Buffer.from(injectPageConfig(body.toString('utf8'), config)) : body)));
  if (!existsSync(join(dir, 'index.html'))) logger?.warn({ dir }, 'dashboard not built: GET / serves a page saying to run npm run build');

  return async (c, next) => {
    const method = c.req.method;
    if ((method !== 'GET' && method !== 'HEAD') || !MAYBE_FILE.test(c.req.path)) return next();
    const path = c.req.path === '/' ? '/index.html' : c.req.path;
    const files = load();
    if (!files) {
      if (path !== '/index.html') return next();
      const headers = { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Security-Policy': MISSING_PAGE_CSP, 'X-Content-Type-Options': 'nosniff' };
      return method === 'HEAD' ? c.body(null, 503, headers) : c.body(missingBuildPage(dir), 503, headers);
    }
    const file = files.get(path);
    if (!file) return next();
    return send(file, path === '/index.html' ? csp : null);

    function send(f: WebFile, pageCsp: string | null): Response {
      const headers: Record<string, string> = {
        'Content-Type': f.type,
        'Cache-Control': f.cacheControl,
        ETag: f.etag,
        'X-Content-Type-Options': 'nosniff',
        Vary: 'Accept-Encoding',
      };
      if (pageCsp) {
        headers['Content-Security-Policy'] = pageCsp;
        headers['Referrer-Policy'] = 'strict-origin-when-cross-origin';
      }
      const match = c.req.header('If-None-Match');
      if (match && match.split(',').some((tag) => tag.trim().replace(/^W\//, '') === f.etag)) return c.body(null, 304, headers);
      const gzip = f.gzip && /\bgzip\b/i.test(c.req.header('Accept-Encoding') ?? '');
      const body = gzip ? f.gzip! : f.body;
      if (gzip) headers['Content-Encoding'] = 'gzip';
      headers['Content-Length'] = String(body.length);
      return method === 'HEAD' ? c.body(null, 200, headers) : c.body(new Uint8Array(body), 200, headers);
    }
  };
}
