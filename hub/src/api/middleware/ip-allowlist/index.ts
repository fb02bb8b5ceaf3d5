import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../env.js';
import { ApiError } from '../../errors.js';
import { AddressSet, clientAddress } from './addresses.js';

export { AddressSet, cidrProblem, clientAddress, parseCidr } from './addresses.js';

/** The TCP peer's address, or undefined when there is no socket (e.g. `app.request()` in tests). */
export type PeerAddress = (c: Context) => string | undefined;

/**
 * The socket's remote address through `@hono/node-server`'s conninfo; when the request did not come
 * through node-server (no socket: `app.request()` in tests, another runtime) `fallback` answers.
 */
export function socketPeerAddress(fallback: PeerAddress = () => undefined): PeerAddress {
  return (c) => {
    try {
      const address = getConnInfo(c).remote.address;
      if (address) return address;
    } catch {
      /* no node-server bindings on this request */
    }
    return fallback(c);
  };
}

export interface IpAllowlistOptions {
  /** CIDR blocks allowed to call (IPv4 and IPv6); empty allows every address. */
  allow?: readonly string[];
  /** CIDR blocks of reverse proxies whose `X-Forwarded-For` is believed. */
  trustedProxies?: readonly string[];
  /** Where the direct peer's address comes from (default: the socket, via conninfo). */
  peerAddress?: PeerAddress;
  /** Requests this returns true for pass unchecked (health probes, device uplink). */
  skip?: (c: Context<AppEnv>) => boolean;
}

/**
 * Sets `c.get('clientAddress')` and refuses clients outside `allow` with 403 `forbidden_address`.
 * `X-Forwarded-For` counts only when the direct peer is a trusted proxy (see `clientAddress`).
 * A request whose address cannot be told is refused whenever the list is not empty.
 */
export function ipAllowlist({ allow = [], trustedProxies = [], peerAddress = socketPeerAddress(), skip = () => false }: IpAllowlistOptions = {}): MiddlewareHandler<AppEnv> {
  const allowed = new AddressSet(allow);
  const proxies = new AddressSet(trustedProxies);
  return async (c, next) => {
    if (skip(c)) return next();
    const client = clientAddress(peerAddress(c), c.req.header('X-Forwarded-For'), proxies);
    if (client) c.set('clientAddress', client);
    if (allowed.size > 0 && (client === null || !allowed.has(client))) {
      throw new ApiError(
        403,
        'forbidden_address',
        client === null
          ? 'the client address could not be determined, and this hub only answers addresses in its ALLOWED_IPS'
          : `address ${client} is not in this hub's ALLOWED_IPS; ask its operator to add it`,
      );
    }
    await next();
  };
}
