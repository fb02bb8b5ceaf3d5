import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/testing/databases.js';
import { openTestApp, type TestApp } from '../testing/app.js';

const pglite = testDatabases().find((d) => d.name === 'pglite')!;

describe('GET /metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp(pglite);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('serves the injected registry in Prometheus text format', async () => {
    await t.services.ingest.ingest('veh-1', 'not json', 'mqtt');
    const res = await t.app.request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('# TYPE roadwatch_hub_batches_total counter');
    expect(text).toContain('roadwatch_hub_batches_total{channel="mqtt"} 1');
  });
});
