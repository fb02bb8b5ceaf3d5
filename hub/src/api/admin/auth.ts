import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { ApiError } from '../errors.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** `Authorization: Bearer <token>` against the hub's admin token, compared in constant time. */
export function requireBearer(token: string): MiddlewareHandler<AppEnv> {
  if (token.length < 16) throw new Error('admin token must be at least 16 characters');
  const expected = digest(token);
  return async (c, next) => {
    const header = c.req.header('Authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      throw new ApiError(401, 'unauthorized', 'missing bearer token: send Authorization: Bearer <token> (the admin token is in <dataDir>/admin.json)', {
        'WWW-Authenticate': 'Bearer realm="roadwatch-hub admin"',
      });
    }
    if (!timingSafeEqual(digest(match[1]!), expected)) {
      throw new ApiError(401, 'unauthorized', 'invalid admin token (it changes each time the hub starts; read <dataDir>/admin.json again)', {
        'WWW-Authenticate': 'Bearer realm="roadwatch-hub admin", error="invalid_token"',
      });
    }
    await next();
  };
}
