import type { MapConfig } from '../../config/map.js';

/** What the page learns from the hub without a token: the basemap settings (docs/DASHBOARD.md). */
export type PageConfig = MapConfig;

export const PAGE_CONFIG_META = 'roadwatch-config';

const escapeAttribute = (text: string): string => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** index.html with `<meta name="roadwatch-config" content="{…json…}">` before `</head>` (hub/web/src/config.ts reads it). */
export function injectPageConfig(html: string, config: PageConfig): string {
  const meta = `<meta name="${PAGE_CONFIG_META}" content="${escapeAttribute(JSON.stringify(config))}">`;
  const at = html.search(/<\/head>/i);
  return at < 0 ? `${meta}\n${html}` : `${html.slice(0, at)}${meta}\n${html.slice(at)}`;
}

/**
 * The CSP `img-src` source of a tile URL template: its scheme, host and port, a `{s}`-style
 * placeholder in the left-most label becoming `*` (`https://{s}.tile.example.org/…` →
 * `https://*.tile.example.org`); a path on this hub needs nothing beyond 'self'.
 */
export function tileSource(tilesUrl: string): string | null {
  const m = /^(https?):\/\/([^/?#]+)/i.exec(tilesUrl);
  if (!m) return null;
  const [, scheme, authority] = m as unknown as [string, string, string];
  const host = authority.replace(/^\{[^}]*\}(?=\.)/, '*');
  // Any other placeholder in the host: allow the scheme rather than a broken source.
  return /[{}]/.test(host) ? `${scheme.toLowerCase()}:` : `${scheme.toLowerCase()}://${host}`;
}

/** The dashboard's Content-Security-Policy: its own scripts and styles only, the API on this origin, tiles from the configured server. */
export function dashboardCsp(tilesUrl: string): string {
  const tiles = tileSource(tilesUrl);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: blob:${tiles ? ` ${tiles}` : ''}`,
    "connect-src 'self'",
    "font-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Served at `/` when the hub has no dashboard build: what to run, not a blank page. */
export function missingBuildPage(dir: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>roadwatch hub — dashboard not built</title></head>
<body style="font: 18px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #1a1a1a">
<h1>The dashboard is not built</h1>
<p>This roadwatch hub runs, but it has no dashboard files in <code>${escapeAttribute(dir)}</code>.</p>
<p>Build them with <code>npm run build</code> (or only the dashboard: <code>npm run build:web -w hub</code>) in the roadwatch checkout, then reload this page.</p>
<p>The REST API works without it: <a href="/docs">API reference</a>, <a href="/openapi.json">OpenAPI document</a>.</p>
</body>
</html>
`;
}

/** The missing-build page's CSP: no scripts, inline style only. */
export const MISSING_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
