import { describe, expect, it } from 'vitest';
import { envelope, middlewareHarness } from '../../testing/harness.js';
import { requestId } from './index.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('requestId', () => {
  const app = middlewareHarness((a) => {
    a.get('/ok', (c) => c.json({ id: c.get('requestId') }));
    a.get('/raw', () => new Response('built by hand'));
    a.get('/boom', () => {
      throw new Error('secret detail');
    });
  });

  it('makes an id, exposes it to handlers and sends it back in X-Request-Id', async () => {
    const res = await app.request('/ok');
    const { id } = (await res.json()) as { id: string };
    expect(id).toMatch(UUID);
    expect(res.headers.get('X-Request-Id')).toBe(id);
  });

  it('keeps a well-formed incoming id and replaces a malformed or oversized one', async () => {
    expect((await app.request('/ok', { headers: { 'X-Request-Id': 'lb-1234_abc=' } })).headers.get('X-Request-Id')).toBe('lb-1234_abc=');
    expect((await app.request('/ok', { headers: { 'X-Request-Id': 'bad id; <script>' } })).headers.get('X-Request-Id')).toMatch(UUID);
    expect((await app.request('/ok', { headers: { 'X-Request-Id': 'x'.repeat(256) } })).headers.get('X-Request-Id')).toMatch(UUID);
  });

  it('is on responses a handler built by hand, on 404 and on 500, and the envelope carries the same id', async () => {
    expect((await app.request('/raw')).headers.get('X-Request-Id')).toMatch(UUID);
    for (const path of ['/nope', '/boom']) {
      const res = await app.request(path);
      const error = await envelope(res);
      expect(error.requestId).toMatch(UUID);
      expect(res.headers.get('X-Request-Id')).toBe(error.requestId);
    }
  });

  it('takes its header name and generator from the options', async () => {
    const custom = middlewareHarness(() => undefined);
    custom.use(requestId({ headerName: 'X-Trace', generator: () => 'fixed-id' }));
    custom.get('/t', (c) => c.text(c.get('requestId')));
    const res = await custom.request('/t');
    expect(res.headers.get('X-Trace')).toBe('fixed-id');
    expect(await res.text()).toBe('fixed-id');
  });
});
