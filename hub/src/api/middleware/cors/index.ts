import type { MiddlewareHandler } from 'hono';
import { cors as honoCors } from 'hono/cors';
import type { AppEnv } from '../../env.js';

export interface CorsOptions {
  /** Origins browsers may call from (`https://ops.example.org`); `['*']` any origin; `[]` no CORS headers at all. */
  origins?: readonly string[];
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  /** How long a browser may cache a preflight answer, seconds. */
  maxAge?: number;
}

/**
 * hono/cors from the hub config. A preflight (OPTIONS) is answered here, before authentication,
 * since browsers never send credentials with it; an origin not in the list gets no
 * `Access-Control-Allow-Origin`, so the browser refuses the call. No credentials (cookies) are
 * involved: the API takes bearer tokens.
 */
export function cors({
  origins = [],
  allowMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
  allowHeaders = ['Authorization', 'Content-Type', 'X-Request-Id'],
  exposeHeaders = ['X-Request-Id', 'Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'WWW-Authenticate'],
  maxAge = 600,
}: CorsOptions = {}): MiddlewareHandler<AppEnv> {
  if (origins.length === 0) return async (_c, next) => next();
  const origin = origins.includes('*') ? '*' : [...origins];
  return honoCors({ origin, allowMethods, allowHeaders, exposeHeaders, maxAge });
}
