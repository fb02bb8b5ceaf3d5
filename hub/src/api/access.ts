import type { Context, Hono } from 'hono';
import type { AccessConfig } from '../config/access.js';
import type { TokenVerifier } from '../services/tokens.js';
import type { AppEnv } from './env.js';
import { bearerAuth } from './middleware/bearer-auth/index.js';
import { cors } from './middleware/cors/index.js';
import { ipAllowlist, socketPeerAddress, type PeerAddress } from './middleware/ip-allowlist/index.js';
import { MemoryRateLimitStore, rateLimit, type RateLimitStore } from './middleware/rate-limit/index.js';

/** A method and an exact path pattern (tested against `c.req.path`). */
export interface RouteMatcher {
  method: string;
  path: RegExp;
}

/**
 * Routes that authenticate with DEVICE credentials (the vehicle's id and secret), not API tokens:
 * the token check, the IP allowlist and the per-token rate limit skip them, and the route must
 * authenticate the device itself (DeviceRegistry.verify). Vehicles call from any network.
 */
export const DEVICE_CREDENTIAL_ROUTES: readonly RouteMatcher[] = [{ method: 'POST', path: /^\/api\/v1\/devices\/[^/]+\/events$/ }];

/** Load-balancer probes: no token, no address check. */
export const OPEN_PATHS: readonly string[] = ['/health', '/health/ready'];

/**
 * The API description (openapi/routes.ts): no token — outside `/api/v1`, so bearer auth and the rate
 * limit never run on them; they hold no data. The address allowlist still applies, as everywhere but the probes.
 */
export const PUBLIC_DOC_PATHS: readonly string[] = ['/openapi.json', '/docs'];

/*
 * The dashboard's files (`/`, `/assets/…`, `/favicon.svg`; web/dashboard.ts) need nothing here: like the
 * API description they are outside `/api/v1`, so no token (the page asks for one and sends it to
 * `/api/v1`) and no rate limit, but the address allowlist applies.
 */

export interface AccessOptions extends Partial<AccessConfig> {
  /** Default DEVICE_CREDENTIAL_ROUTES; whoever adds a device-authenticated route lists it here. */
  deviceCredentialRoutes?: readonly RouteMatcher[];
  /** The TCP peer's address (default: the socket through @hono/node-server's conninfo). Tests inject it. */
  peerAddress?: PeerAddress;
  rateLimitStore?: RateLimitStore;
  /** Milliseconds since the epoch, for the rate limit. */
  clock?: () => number;
}

const matches = (c: Context, routes: readonly RouteMatcher[]): boolean => routes.some((r) => r.method === c.req.method && r.path.test(c.req.path));

/**
 * Registers the access middleware on `app`, before any route (docs/API-ACCESS.md):
 * 1. CORS (`cors.origins`), first so preflights and error answers carry its headers;
 * 2. IP allowlist (`allowedIps`, `trustedProxies`) on everything but the health probes, the local
 *    admin API (its own per-start token) and the device-credential routes;
 *    (`/openapi.json` and `/docs`, PUBLIC_DOC_PATHS, need no token but stay behind the allowlist);
 * 3. API token on `/api/v1/*` (GET → read, other methods → ack; routes raise it with requireScope),
 *    on `/health/diagnostics` (admin), and on `/metrics` when `metrics.requireToken` is set;
 * 4. rate limit per token on `/api/v1/*` (`rateLimit.perMinute`).
 */
export function applyAccessControl(app: Hono<AppEnv>, tokens: TokenVerifier, access: AccessOptions = {}): void {
  const deviceRoutes = access.deviceCredentialRoutes ?? DEVICE_CREDENTIAL_ROUTES;
  const isDeviceRoute = (c: Context): boolean => matches(c, deviceRoutes);
  const isAdmin = (c: Context): boolean => c.req.path === '/admin' || c.req.path.startsWith('/admin/');

  app.use(cors({ origins: access.cors?.origins ?? [] }));
  app.use(
    ipAllowlist({
      allow: access.allowedIps ?? [],
      trustedProxies: access.trustedProxies ?? [],
      peerAddress: access.peerAddress ?? socketPeerAddress(),
      skip: (c) => OPEN_PATHS.includes(c.req.path) || isAdmin(c) || isDeviceRoute(c),
    }),
  );
  const auth = bearerAuth({ verify: (token) => tokens.verify(token), skip: isDeviceRoute });
  app.use('/api/v1/*', auth);
  app.use('/health/diagnostics', auth); // the route asks for admin
  if (access.metrics?.requireToken) app.use('/metrics', auth);
  app.use(
    '/api/v1/*',
    rateLimit({
      limit: access.rateLimit?.perMinute ?? 600,
      windowMs: 60_000,
      store: access.rateLimitStore ?? new MemoryRateLimitStore(),
      ...(access.clock ? { clock: access.clock } : {}),
    }),
  );
}
