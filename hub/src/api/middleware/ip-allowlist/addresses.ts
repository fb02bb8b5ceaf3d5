import { BlockList, isIP } from 'node:net';

/** `10.0.0.0/8`, `192.168.1.7`, `2001:db8::/32`, `::1`: an address or a CIDR block, IPv4 or IPv6. */
export function parseCidr(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [address = '', prefixText, extra] = entry.trim().split('/');
  if (extra !== undefined) return null;
  const version = isIP(address);
  if (version === 0) return null;
  const max = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return null;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Why a list entry is not a CIDR block, or null when it is one. */
export function cidrProblem(entry: string): string | null {
  return parseCidr(entry) ? null : `"${entry}" is not an IP address or CIDR block (for example 10.0.0.0/8, 192.168.1.7, 2001:db8::/32)`;
}

/**
 * A set of CIDR blocks (node's BlockList: IPv4-mapped IPv6 addresses such as `::ffff:10.1.2.3`
 * match IPv4 blocks). Entries are validated by the config schema; a bad one here is a programming error.
 */
export class AddressSet {
  private readonly list = new BlockList();
  readonly size: number;

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const parsed = parseCidr(entry);
      if (!parsed) throw new Error(cidrProblem(entry)!);
      this.list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
    this.size = entries.length;
  }

  has(address: string): boolean {
    const version = isIP(address);
    return version !== 0 && this.list.check(address, version === 4 ? 'ipv4' : 'ipv6');
  }
}

/** `::ffff:10.1.2.3` → `10.1.2.3`; anything else unchanged. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/**
 * One `X-Forwarded-For` element as an address: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`,
 * `[2001:db8::1]` or `[2001:db8::1]:443`; null when it is none of these (`unknown`, garbage).
 */
export function parseForwardedElement(element: string): string | null {
  const text = element.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(text);
  if (bracketed) return isIP(bracketed[1]!) === 6 ? bracketed[1]! : null;
  if (isIP(text)) return text;
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(text);
  return withPort && isIP(withPort[1]!) === 4 ? withPort[1]! : null;
}

/**
 * The client's address. The direct peer is the client unless it is a trusted proxy; then the
 * `X-Forwarded-For` chain is read from the right (each proxy appends the address it saw) and the
 * first address that is not a trusted proxy is the client — everything left of it could have been
 * written by the client itself. A chain of trusted proxies only yields its left-most address.
 * An unreadable element where the client should be yields null (treated as outside any allowlist).
 * Without a peer address (no socket) the result is null.
 */
export function clientAddress(peer: string | null | undefined, forwardedFor: string | null | undefined, trustedProxies: AddressSet): string | null {
  if (!peer || isIP(peer) === 0) return null;
  if (trustedProxies.size === 0 || !trustedProxies.has(peer) || !forwardedFor) return normalizeAddress(peer);
  const chain = forwardedFor.split(',').filter((part) => part.trim() !== '');
  let client = peer;
  for (let i = chain.length - 1; i >= 0; i--) {
    const address = parseForwardedElement(chain[i]!);
    if (address === null) return null;
    client = address;
    if (!trustedProxies.has(address)) break;
  }
  return normalizeAddress(client);
}
