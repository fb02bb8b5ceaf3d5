import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '@roadwatch/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAdminFile } from './api/admin/admin-file.js';
import { memoryLogger } from './broker/testing/harness.js';
import { HubConfigSchema } from './config/schema.js';
import { isPgliteLocked } from './db/pglite-lock.js';
import { createHub } from './main.js';

describe('createHub (embedded PGlite, ports 0)', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'rw-hub-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts in order, logs the chosen ports, publishes admin.json, and stops in reverse', async () => {
    const { logger, lines } = memoryLogger();
    const config = HubConfigSchema.parse({ dataDir, host: '127.0.0.1', httpPort: 0, mqttPort: 0 });
    const hub = createHub(config, { logger });
    const { httpPort, mqttPort } = await hub.start();
    try {
      expect(lines.find((l) => l.msg === 'http listening')).toMatchObject({ port: httpPort });
      expect(lines.find((l) => l.msg === 'mqtt listening')).toMatchObject({ port: mqttPort });
      const order = ['migrations applied', 'http listening', 'mqtt listening', 'hub started'].map((msg) => lines.findIndex((l) => l.msg === msg));
      expect(order.every((i) => i >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);

      const admin = readAdminFile(dataDir);
      expect(admin).toMatchObject({ url: `http://127.0.0.1:${httpPort}`, pid: process.pid });
      expect(statSync(join(dataDir, 'admin.json')).mode & 0o777).toBe(0o600);
      const ready = await fetch(`http://127.0.0.1:${httpPort}/health/ready`);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { db: true, broker: true } });
      const devices = await fetch(`${admin!.url}/admin/v1/devices`, { headers: { Authorization: `Bearer ${admin!.token}` } });
      expect(devices.status).toBe(200);

      // A second hub on the same data dir is refused clearly and leaves the first one alone.
      const second = createHub(config, { logger: memoryLogger().logger });
      const error = await second.start().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toContain('already open by process');
      expect(readAdminFile(dataDir)?.token).toBe(admin!.token);
    } finally {
      await hub.stop();
    }
    const stopOrder = ['hub stopping', 'mqtt stopped', 'hub stopped'].map((msg) => lines.findIndex((l) => l.msg === msg));
    expect(stopOrder.every((i) => i >= 0)).toBe(true);
    expect([...stopOrder].sort((a, b) => a - b)).toEqual(stopOrder);
    expect(existsSync(join(dataDir, 'admin.json'))).toBe(false);
    expect(isPgliteLocked(dataDir)).toBe(false);
    await expect(fetch(`http://127.0.0.1:${httpPort}/health`)).rejects.toThrow();
  }, 60_000);
});
