import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/testing/databases.js';
import { bearer, openTestApp, type TestApp } from '../testing/app.js';
import { HTTP_DURATION_METRIC, HTTP_IN_FLIGHT_METRIC, UNMATCHED_ROUTE } from './http-metrics.js';

const pglite = testDatabases().find((d) => d.name === 'pglite')!;

describe('HTTP request metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp(pglite);
  });
  afterAll(async () => {
    await t?.close();
  });

  const counts = async () => {
    const m = (await t.registry.getMetricsAsJSON()).find((x) => x.name === HTTP_DURATION_METRIC)!;
    const out: Record<string, number> = {};
    for (const v of m.values) {
      if (!String((v as { metricName?: string }).metricName).endsWith('_count')) continue;
      out[`${v.labels.method} ${v.labels.route} ${v.labels.status}`] = v.value;
    }
    return out;
  };

  it('labels each request with its route pattern and status, also when access control refused it', async () => {
    expect((await t.app.request('/api/v1/detections', { headers: bearer(t.tokens.read) })).status).toBe(200);
    expect((await t.app.request('/api/v1/detections')).status).toBe(401);
    expect((await t.app.request('/health')).status).toBe(200);
    expect((await t.app.request('/no/such/path/123')).status).toBe(404);
    expect((await t.app.request('/no/such/path/456')).status).toBe(404);
    expect(await counts()).toMatchObject({
      'GET /api/v1/detections 200': 1,
      'GET /api/v1/detections 401': 1,
      'GET /health 200': 1,
      [`GET ${UNMATCHED_ROUTE} 404`]: 2,
    });
    expect(Object.keys(await counts()).some((k) => k.includes('/no/such'))).toBe(false);
  });

  it('shows the histogram on /metrics and counts requests in flight (0 between requests)', async () => {
    const text = await (await t.app.request('/metrics')).text();
    expect(text).toContain(`# TYPE ${HTTP_DURATION_METRIC} histogram`);
    expect(text).toMatch(new RegExp(`${HTTP_DURATION_METRIC}_bucket\\{le="0.005",method="GET",route="/health",status="200"\\} \\d+`));
    // The scrape itself is in flight while it is served.
    expect(text).toContain(`${HTTP_IN_FLIGHT_METRIC} 1`);
    const after = (await t.registry.getMetricsAsJSON()).find((x) => x.name === HTTP_IN_FLIGHT_METRIC)!;
    expect(after.values[0]!.value).toBe(0);
  });
});
