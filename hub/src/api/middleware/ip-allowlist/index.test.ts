import type { Context } from 'hono';
import { describe, expect, it } from 'vitest';
import { envelope, middlewareHarness } from '../../testing/harness.js';
import { AddressSet, cidrProblem, clientAddress, ipAllowlist, socketPeerAddress, type IpAllowlistOptions } from './index.js';

describe('CIDR lists', () => {
  it('accepts IPv4 and IPv6 addresses and blocks, and names what is wrong with the rest', () => {
    for (const good of ['10.0.0.0/8', '192.168.1.7', '0.0.0.0/0', '2001:db8::/32', '::1', '::/0', 'fe80::1/128']) expect(cidrProblem(good)).toBeNull();
    for (const bad of ['10.0.0.0/33', '2001:db8::/129', '10.0.0/8', 'example.org', '10.0.0.0/8/1', '10.0.0.0/x', '']) {
      expect(cidrProblem(bad)).toContain('is not an IP address or CIDR block');
    }
  });

  it('matches IPv4, IPv6 and IPv4-mapped IPv6 addresses', () => {
    const set = new AddressSet(['10.0.0.0/8', '2001:db8::/32', '192.168.1.7']);
    expect(set.has('10.200.3.4')).toBe(true);
    expect(set.has('::ffff:10.200.3.4')).toBe(true);
    expect(set.has('2001:db8:1::5')).toBe(true);
    expect(set.has('192.168.1.7')).toBe(true);
    expect(set.has('192.168.1.8')).toBe(false);
    expect(set.has('2001:db9::1')).toBe(false);
    expect(set.has('not-an-ip')).toBe(false);
  });
});

describe('clientAddress', () => {
  const proxies = new AddressSet(['10.0.0.0/8', 'fd00::/8']);
  const none = new AddressSet([]);

  it('is the peer when there are no trusted proxies or the peer is not one', () => {
    expect(clientAddress('203.0.113.9', '198.51.100.1', none)).toBe('203.0.113.9');
    expect(clientAddress('203.0.113.9', '198.51.100.1', proxies)).toBe('203.0.113.9');
    expect(clientAddress('::ffff:203.0.113.9', undefined, proxies)).toBe('203.0.113.9');
  });

  it('behind trusted proxies is the right-most forwarded address that is not a trusted proxy', () => {
    expect(clientAddress('10.0.0.2', '198.51.100.1', proxies)).toBe('198.51.100.1');
    // The client wrote "1.2.3.4" itself; the proxy appended what it saw.
    expect(clientAddress('10.0.0.2', '1.2.3.4, 198.51.100.1', proxies)).toBe('198.51.100.1');
    expect(clientAddress('10.0.0.2', '1.2.3.4, 198.51.100.1, 10.9.9.9', proxies)).toBe('198.51.100.1');
    expect(clientAddress('fd00::2', '2001:db8::7, fd00::3', proxies)).toBe('2001:db8::7');
    expect(clientAddress('10.0.0.2', '[2001:db8::7]:4711', proxies)).toBe('2001:db8::7');
    expect(clientAddress('10.0.0.2', '198.51.100.1:51234', proxies)).toBe('198.51.100.1');
    // Only proxies in the chain: the left-most one.
    expect(clientAddress('10.0.0.2', '10.1.1.1, 10.2.2.2', proxies)).toBe('10.1.1.1');
    // No header: the proxy itself.
    expect(clientAddress('10.0.0.2', undefined, proxies)).toBe('10.0.0.2');
  });

  it('is unknown when the forwarded address is garbage or there is no peer', () => {
    expect(clientAddress('10.0.0.2', '198.51.100.1, unknown', proxies)).toBeNull();
    expect(clientAddress(undefined, '198.51.100.1', proxies)).toBeNull();
    expect(clientAddress('', undefined, none)).toBeNull();
  });
});

describe('ipAllowlist', () => {
  const PEER = 'x-test-peer';
  const build = (options: IpAllowlistOptions) =>
    middlewareHarness((app) => {
      app.use(ipAllowlist({ peerAddress: socketPeerAddress((c: Context) => c.req.header(PEER)), ...options }));
      app.get('/who', (c) => c.json({ client: c.get('clientAddress') ?? null }));
    });
  const from = (peer: string, headers: Record<string, string> = {}) => ({ headers: { [PEER]: peer, ...headers } });

  it('allows every address with an empty list, and still records the client address', async () => {
    const app = build({});
    const res = await app.request('/who', from('198.51.100.1'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ client: '198.51.100.1' });
  });

  it('allows addresses in the list and refuses the rest with 403 forbidden_address', async () => {
    const app = build({ allow: ['192.0.2.0/24', '2001:db8::/32'] });
    expect((await app.request('/who', from('192.0.2.44'))).status).toBe(200);
    expect((await app.request('/who', from('2001:db8::44'))).status).toBe(200);
    const res = await app.request('/who', from('198.51.100.1'));
    expect(res.status).toBe(403);
    const error = await envelope(res);
    expect(error).toEqual({ code: 'forbidden_address', message: expect.stringContaining('address 198.51.100.1 is not in'), requestId: expect.any(String) });
  });

  it('ignores X-Forwarded-For from an untrusted peer', async () => {
    const app = build({ allow: ['192.0.2.0/24'], trustedProxies: ['10.0.0.0/8'] });
    const res = await app.request('/who', from('198.51.100.1', { 'X-Forwarded-For': '192.0.2.44' }));
    expect(res.status).toBe(403);
    expect((await envelope(res)).message).toContain('198.51.100.1');
  });

  it('honours X-Forwarded-For from a trusted proxy (right-most untrusted address)', async () => {
    const app = build({ allow: ['192.0.2.0/24'], trustedProxies: ['10.0.0.0/8'] });
    const ok = await app.request('/who', from('10.0.0.5', { 'X-Forwarded-For': '192.0.2.44' }));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ client: '192.0.2.44' });
    // A client cannot slip an allowed address in front of its own.
    const spoofed = await app.request('/who', from('10.0.0.5', { 'X-Forwarded-For': '192.0.2.44, 198.51.100.1' }));
    expect(spoofed.status).toBe(403);
  });

  it('refuses a request whose address cannot be told when the list is not empty', async () => {
    const app = build({ allow: ['0.0.0.0/0'], peerAddress: () => undefined });
    const res = await app.request('/who');
    expect(res.status).toBe(403);
    expect((await envelope(res)).message).toContain('could not be determined');
  });

  it('reads the socket address through conninfo when the request came through node-server', async () => {
    const app = build({ allow: ['192.0.2.0/24'], peerAddress: socketPeerAddress() });
    const bindings = (address: string) => ({ incoming: { socket: { remoteAddress: address, remotePort: 4000, remoteFamily: 'IPv4' } } });
    expect((await app.request('/who', {}, bindings('192.0.2.9'))).status).toBe(200);
    expect((await app.request('/who', {}, bindings('198.51.100.9'))).status).toBe(403);
  });

  it('skips what skip() says', async () => {
    const app = build({ allow: ['192.0.2.0/24'], skip: (c) => c.req.path === '/who' });
    expect((await app.request('/who', from('198.51.100.1'))).status).toBe(200);
  });
});
