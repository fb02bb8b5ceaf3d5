import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/**
 * Where `vite build` puts the dashboard (hub/web/vite.config.ts): hub/dist/web, found from this
 * module both when it runs compiled (hub/dist/api/web) and from source (hub/src/api/web).
 */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

/** Vite names what it emits under assets/ with a content hash: a new build is a new URL. */
export const HASHED_PREFIX = '/assets/';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.webmanifest', '.svg', '.txt']);

export interface WebFile {
  body: Buffer;
  /** The gzip of `body` when that is worth sending (text, smaller), else null. */
  gzip: Buffer | null;
  type: string;
  etag: string;
  cacheControl: string;
}

/** The built dashboard in memory, by URL path (`/index.html`, `/assets/index-3f2a.js`). */
export type WebBuild = ReadonlyMap<string, WebFile>;

/** The file of one URL path, with its headers; transform changes a file's body (index.html gets the page config). */
export function webFile(urlPath: string, body: Buffer): WebFile {
  const ext = extname(urlPath).toLowerCase();
  const gz = COMPRESSIBLE.has(ext) && body.length > 512 ? gzipSync(body) : null;
  return {
    body,
    gzip: gz && gz.length < body.length ? gz : null,
    type: TYPES[ext] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
    // Hashed assets never change under their name; everything else is revalidated (ETag) each time.
    cacheControl: urlPath.startsWith(HASHED_PREFIX) ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
}

/**
 * Reads the build in `dir` (every file, recursively; dotfiles skipped) when it has an index.html,
 * else returns null (not built). `transform` may rewrite a file's content as it is loaded.
 */
export function loadWebBuild(dir: string, transform: (urlPath: string, body: Buffer) => Buffer = (_, b) => b): WebBuild | null {
  if (!existsSync(join(dir, 'index.html'))) return null;
  const files = new Map<string, WebFile>();
  const walk = (at: string): void => {
    for (const name of readdirSync(at)) {
      if (name.startsWith('.')) continue;
      const path = join(at, name);
      if (statSync(path).isDirectory()) {
        walk(path);
        continue;
      }
      const urlPath = `/${relative(dir, path).split(sep).join('/')}`;
      files.set(urlPath, webFile(urlPath, transform(urlPath, readFileSync(path))));
    }
  };
  walk(dir);
  return files;
}
