import { loadConfig, UserError } from '@roadwatch/shared';
import { describe, expect, it } from 'vitest';
import { HUB_ENV, HubConfigSchema } from './schema.js';

const load = (env: NodeJS.ProcessEnv) => loadConfig(HubConfigSchema, { env, bindings: HUB_ENV, what: 'hub' });

describe('access configuration', () => {
  it('defaults to every address, no proxies, no CORS, 600 requests a minute, open /metrics', () => {
    const config = load({});
    expect(config).toMatchObject({ allowedIps: [], trustedProxies: [], cors: { origins: [] }, rateLimit: { perMinute: 600 }, metrics: { requireToken: false } });
  });

  it('reads comma lists and numbers from the environment', () => {
    const config = load({
      ALLOWED_IPS: '10.0.0.0/8, 2001:db8::/32,192.0.2.7',
      TRUSTED_PROXIES: '10.1.0.1',
      ROADWATCH_HUB_CORS_ORIGINS: 'https://ops.example.org,http://localhost:5173',
      ROADWATCH_HUB_RATE_LIMIT_PER_MINUTE: '120',
      ROADWATCH_HUB_METRICS_REQUIRE_TOKEN: 'true',
    });
    expect(config.allowedIps).toEqual(['10.0.0.0/8', '2001:db8::/32', '192.0.2.7']);
    expect(config.trustedProxies).toEqual(['10.1.0.1']);
    expect(config.cors.origins).toEqual(['https://ops.example.org', 'http://localhost:5173']);
    expect(config.rateLimit.perMinute).toBe(120);
    expect(config.metrics.requireToken).toBe(true);
    expect(load({ ROADWATCH_HUB_CORS_ORIGINS: '*' }).cors.origins).toEqual(['*']);
  });

  it('reports every bad entry at once, naming the variable', () => {
    const error = (() => {
      try {
        load({
          ALLOWED_IPS: '10.0.0.0/8,bogus,10.0.0.0/33',
          TRUSTED_PROXIES: 'proxy.local',
          ROADWATCH_HUB_CORS_ORIGINS: 'https://ops.example.org/',
          ROADWATCH_HUB_RATE_LIMIT_PER_MINUTE: 'lots',
          ROADWATCH_HUB_METRICS_REQUIRE_TOKEN: 'maybe',
          ROADWATCH_HUB_HTTP_PORT: 'eighty',
        });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(UserError);
    const message = (error as Error).message;
    expect(message).toContain('allowedIps: "bogus" is not an IP address or CIDR block (for example 10.0.0.0/8, 192.168.1.7, 2001:db8::/32) (set ALLOWED_IPS');
    expect(message).toContain('allowedIps: "10.0.0.0/33" is not an IP address or CIDR block');
    expect(message).toContain('trustedProxies: "proxy.local" is not an IP address or CIDR block');
    expect(message).toContain('(set TRUSTED_PROXIES');
    expect(message).toContain('cors.origins: "https://ops.example.org/" is not an origin');
    expect(message).toContain('(set ROADWATCH_HUB_CORS_ORIGINS');
    expect(message).toMatch(/rateLimit\.perMinute: .*\(set ROADWATCH_HUB_RATE_LIMIT_PER_MINUTE/);
    expect(message).toMatch(/metrics\.requireToken: .*\(set ROADWATCH_HUB_METRICS_REQUIRE_TOKEN/);
    expect(message).toMatch(/httpPort: /);
  });

  it('refuses unknown keys in the access sections', () => {
    expect(HubConfigSchema.safeParse({ cors: { origin: ['*'] } }).success).toBe(false);
    expect(HubConfigSchema.safeParse({ rateLimit: { perSecond: 1 } }).success).toBe(false);
  });
});
