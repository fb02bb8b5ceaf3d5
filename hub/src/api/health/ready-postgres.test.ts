import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually } from '../../broker/testing/harness.js';
import { HubConfigSchema } from '../../config/schema.js';
import { TEST_DATABASE_ENV, testDatabases, testLogger } from '../../db/testing/databases.js';
import { startTcpProxy } from '../../db/testing/tcp-proxy.js';
import { createHub } from '../../main.js';

/**
 * The whole hub against real Postgres, with a TCP proxy in between that the test cuts and restores:
 * the machine's shared Postgres is never stopped.
 */
describe.skipIf(!process.env[TEST_DATABASE_ENV])('readiness against real Postgres (through a TCP proxy)', () => {
  it('/health/ready goes 503 when Postgres goes away and 200 when it returns; /health stays 200', async () => {
    const postgres = testDatabases().find((d) => d.name === 'postgres')!;
    const target = await postgres.open({ migrate: false });
    const real = new URL(target.url!);
    const proxy = await startTcpProxy({ host: real.hostname, port: Number(real.port || 5432) });
    const viaProxy = new URL(real.toString());
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const dataDir = mkdtempSync(join(tmpdir(), 'rw-ready-'));
    const config = HubConfigSchema.parse({ databaseUrl: viaProxy.toString(), dataDir, host: '127.0.0.1', httpPort: 0, mqttPort: 0, alarms: { timerS: 3600 } });
    const hub = createHub(config, { logger: testLogger() });
    try {
      const { httpPort } = await hub.start();
      const base = `http://127.0.0.1:${httpPort}`;
      const ready = () => fetch(`${base}/health/ready`);
      const dbUp = async () => /^roadwatch_hub_db_up (\d)$/m.exec(await (await fetch(`${base}/metrics`)).text())?.[1];

      const up = await ready();
      expect(up.status).toBe(200);
      expect(await up.json()).toEqual({ status: 'ready', checks: { db: true, broker: true } });
      expect(proxy.connections).toBeGreaterThan(0);

      await proxy.down();
      const down = await ready();
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({
        error: { code: 'not_ready', message: 'not ready: database not reachable', requestId: expect.any(String) },
        checks: { db: false, broker: true },
      });
      expect((await fetch(`${base}/health`)).status).toBe(200);
      expect(await dbUp()).toBe('0');

      await proxy.up();
      await eventually(async () => (await ready()).status === 200, '/health/ready to answer 200 again', 10_000);
      // The metrics' database read is shared for a second between scrapes.
      await eventually(async () => (await dbUp()) === '1', 'roadwatch_hub_db_up to be 1 again', 10_000);
    } finally {
      await hub.stop();
      await proxy.close();
      await target.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
