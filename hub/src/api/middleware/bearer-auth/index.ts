import type { Context, MiddlewareHandler } from 'hono';
import { scopeAllows, type TokenIdentity, type TokenScope } from '../../../services/tokens.js';
import type { AppEnv } from '../../env.js';
import { ApiError } from '../../errors.js';

/** Methods that only read: a `read` token may call them. Everything else needs `ack` by default. */
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The default scope of a request: GET/HEAD/OPTIONS need `read`, POST/PUT/PATCH/DELETE need `ack`. */
export function scopeByMethod(c: Context): TokenScope {
  return READ_METHODS.has(c.req.method) ? 'read' : 'ack';
}

export interface BearerAuthOptions {
  /** Looks a presented token up: its identity, or null when unknown or revoked. */
  verify: (token: string) => Promise<TokenIdentity | null>;
  /** The scope a request needs (default `scopeByMethod`); routes raise it with `requireScope`. */
  scopeFor?: (c: Context<AppEnv>) => TokenScope;
  /** Requests this returns true for pass without a token (e.g. the device uplink, which uses device credentials). */
  skip?: (c: Context<AppEnv>) => boolean;
  /** `realm` of the WWW-Authenticate challenge. */
  realm?: string;
}

// RFC 6750 b64token, case-insensitive scheme.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * `Authorization: Bearer <token>` against the API tokens: missing, unknown or revoked → 401
 * `unauthorized` with `WWW-Authenticate: Bearer`; valid without the scope the request needs → 403
 * `insufficient_scope`. Sets `c.get('token')` (id, name, scope) for handlers.
 */
export function bearerAuth({ verify, scopeFor = scopeByMethod, skip = () => false, realm = 'roadwatch-hub' }: BearerAuthOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (skip(c)) return next();
    const header = c.req.header('Authorization');
    const match = header === undefined ? null : BEARER.exec(header);
    if (!match) {
      throw new ApiError(
        401,
        'unauthorized',
        header === undefined
          ? 'missing API token: send Authorization: Bearer <token> (an operator issues one with roadwatch-hub tokens create)'
          : 'malformed Authorization header: expected Bearer <token>',
        { 'WWW-Authenticate': `Bearer realm="${realm}"` },
      );
    }
    const identity = await verify(match[1]!);
    if (!identity) {
      throw new ApiError(401, 'unauthorized', 'invalid or revoked API token', {
        'WWW-Authenticate': `Bearer realm="${realm}", error="invalid_token"`,
      });
    }
    c.set('token', identity);
    checkScope(c, identity, scopeFor(c), realm);
    await next();
  };
}

/**
 * Route-level scope, after `bearerAuth`: `app.post('/api/v1/…', requireScope('admin'), handler)`.
 * It can only raise what `bearerAuth` already demanded for the method.
 */
export function requireScope(scope: TokenScope, { realm = 'roadwatch-hub' }: { realm?: string } = {}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const identity = c.get('token');
    if (!identity) {
      throw new ApiError(401, 'unauthorized', 'missing API token: send Authorization: Bearer <token>', { 'WWW-Authenticate': `Bearer realm="${realm}"` });
    }
    checkScope(c, identity, scope, realm);
    await next();
  };
}

function checkScope(c: Context, identity: TokenIdentity, need: TokenScope, realm: string): void {
  if (scopeAllows(identity.scope, need)) return;
  throw new ApiError(
    403,
    'insufficient_scope',
    `token ${identity.name} has scope ${identity.scope}; ${c.req.method} ${c.req.path} needs ${need}`,
    { 'WWW-Authenticate': `Bearer realm="${realm}", error="insufficient_scope", scope="${need}"` },
  );
}
