import { describe, expect, it } from 'vitest';
import { middlewareHarness } from '../../testing/harness.js';
import { cors, type CorsOptions } from './index.js';

const build = (options: CorsOptions) =>
  middlewareHarness((app) => {
    app.use(cors(options));
    app.get('/api/v1/things', (c) => c.json([]));
  });

const preflight = (origin: string) => ({
  method: 'OPTIONS',
  headers: { Origin: origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
});

describe('cors', () => {
  it('sends no CORS headers with an empty origin list', async () => {
    const app = build({ origins: [] });
    const res = await app.request('/api/v1/things', { headers: { Origin: 'https://ops.example.org' } });
    expect(res.status).toBe(200);
    expect([...res.headers.keys()].filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('answers a preflight from an allowed origin with that origin, the methods and the Authorization header', async () => {
    const app = build({ origins: ['https://ops.example.org', 'http://localhost:5173'] });
    const res = await app.request('/api/v1/things', preflight('https://ops.example.org'));
    expect(res.status).toBe(204);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('https://ops.example.org');
    expect(res.headers.get('Access-Control-Allow-Methods')).toContain('GET');
    expect(res.headers.get('Access-Control-Allow-Headers')).toContain('Authorization');
    expect(res.headers.get('Access-Control-Max-Age')).toBe('600');
    expect(res.headers.get('Vary')).toContain('Origin');
    const get = await app.request('/api/v1/things', { headers: { Origin: 'http://localhost:5173' } });
    expect(get.headers.get('Access-Control-Allow-Origin')).toBe('http://localhost:5173');
    expect(get.headers.get('Access-Control-Expose-Headers')).toContain('Retry-After');
  });

  it('does not allow a preflight from an origin outside the list', async () => {
    const app = build({ origins: ['https://ops.example.org'] });
    const res = await app.request('/api/v1/things', preflight('https://evil.example.com'));
    expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
    const get = await app.request('/api/v1/things', { headers: { Origin: 'https://evil.example.com' } });
    expect(get.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });

  it('allows any origin with *', async () => {
    const app = build({ origins: ['*'] });
    const res = await app.request('/api/v1/things', preflight('https://anywhere.example'));
    expect(res.status).toBe(204);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
  });
});
