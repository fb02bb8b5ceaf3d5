import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { requestId as honoRequestId } from 'hono/request-id';
import type { AppEnv } from '../../env.js';

export interface RequestIdOptions {
  /** Request and response header; a valid incoming value (≤ limitLength of `[A-Za-z0-9_=-]`) is kept. */
  headerName?: string;
  limitLength?: number;
  generator?: (c: Context) => string;
}

/**
 * Hono's request-id middleware (`c.get('requestId')`, the `X-Request-Id` response header, an
 * incoming id kept when it is well formed), plus a guarantee that the header is on every response,
 * including ones a handler built by hand. The error envelope carries the same id.
 */
export function requestId({ headerName = 'X-Request-Id', limitLength = 255, generator = () => randomUUID() }: RequestIdOptions = {}): MiddlewareHandler<AppEnv> {
  const inner = honoRequestId({ headerName, limitLength, generator });
  return async (c, next) => {
    await inner(c, async () => {
      await next();
      if (!c.res.headers.has(headerName)) {
        try {
          c.res.headers.set(headerName, c.get('requestId'));
        } catch {
          /* immutable headers (a proxied response): nothing to do */
        }
      }
    });
  };
}
