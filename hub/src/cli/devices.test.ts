import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/client.js';
import { testLogger } from '../db/testing/databases.js';
import { DeviceRegistryService } from '../services/devices.js';
import type { CliIo } from './io.js';
import { runCli } from './program.js';

function captureIo(env: NodeJS.ProcessEnv): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { stdout: (t) => (out += t), stderr: (t) => (err += t), env, out: () => out, err: () => err };
}

describe('roadwatch-hub devices rotate-secret | revoke, migrate --json (embedded database)', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  const run = async (...args: string[]) => {
    const io = captureIo(env);
    const code = await runCli(['node', 'roadwatch-hub', ...args], { io });
    return { code, out: io.out(), err: io.err() };
  };
  /** Whether the hub would accept this secret for the device now (the broker asks the same registry). */
  const accepts = async (deviceId: string, secret: string) => {
    const database = await openDatabase({ dataDir, logger: testLogger() });
    try {
      return await new DeviceRegistryService({ db: database.db, logger: testLogger() }).verify(deviceId, secret);
    } finally {
      await database.close();
    }
  };

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'rw-devices-'));
    env = { ROADWATCH_HUB_DATA: dataDir };
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('rotate-secret issues a new secret (the old one stops working); revoke leaves the device with none that works', async () => {
    const added = await run('devices', 'add', 'veh-0042', '--json');
    expect(added.code).toBe(0);
    const first = (JSON.parse(added.out) as { secret: string }).secret;
    expect(await accepts('veh-0042', first)).toBe(true);

    const rotated = await run('devices', 'rotate-secret', 'veh-0042', '--json');
    expect(rotated.code, rotated.err).toBe(0);
    const second = JSON.parse(rotated.out) as { deviceId: string; secret: string };
    expect(second).toEqual({ deviceId: 'veh-0042', secret: expect.any(String) });
    expect(second.secret).not.toBe(first);
    expect(await accepts('veh-0042', first)).toBe(false);
    expect(await accepts('veh-0042', second.secret)).toBe(true);

    const human = await run('devices', 'rotate-secret', 'veh-0042');
    expect(human.code).toBe(0);
    expect(human.out).toMatch(/^Device veh-0042 has a new secret \(via the embedded database in .*\); the old one no longer works\.\n\n {2}secret: \S+\n/);
    const third = /secret: (\S+)/.exec(human.out)![1]!;
    expect(human.out).toContain(`ROADWATCH_DEVICE_SECRET=${third}`);

    const revoked = await run('devices', 'revoke', 'veh-0042', '--json');
    expect(revoked.code, revoked.err).toBe(0);
    expect(JSON.parse(revoked.out)).toEqual({ deviceId: 'veh-0042', revoked: true, state: 'unknown' });
    expect(await accepts('veh-0042', third)).toBe(false);
    expect(await accepts('veh-0042', '')).toBe(false);

    // Still registered (its events and history stay); rotate-secret lets it back in.
    const list = await run('devices', 'list', '--json');
    expect((JSON.parse(list.out) as Array<{ deviceId: string }>).map((d) => d.deviceId)).toEqual(['veh-0042']);
    const back = await run('devices', 'rotate-secret', 'veh-0042', '--json');
    expect(await accepts('veh-0042', (JSON.parse(back.out) as { secret: string }).secret)).toBe(true);

    const text = await run('devices', 'revoke', 'veh-0042');
    expect(text.out).toBe(
      `Device veh-0042 revoked (via the embedded database in ${join(dataDir, 'pglite')}): its secret no longer works, from its next connection on.\n` +
        'Its stored events stay. To let it back in: roadwatch-hub devices rotate-secret veh-0042\n',
    );
  }, 120_000); // each command opens the embedded database (a few seconds each)

  it('an unknown or invalid device id is a clear error and registers nothing', async () => {
    for (const command of ['rotate-secret', 'revoke']) {
      const unknown = await run('devices', command, 'veh-9999', '--json');
      expect(unknown.code).toBe(2);
      expect(unknown.out).toBe('');
      expect(unknown.err).toBe('roadwatch-hub: no device veh-9999 — roadwatch-hub devices list shows the registered ones; devices add <deviceId> registers a new one\n');
      const invalid = await run('devices', command, 'bad/id');
      expect(invalid.code).toBe(2);
      expect(invalid.err).toContain('invalid device id "bad/id"');
    }
    const list = await run('devices', 'list', '--json');
    expect(JSON.parse(list.out)).toEqual([]);
  }, 60_000);

  it('migrate --json says where and which migrations', async () => {
    const r = await run('migrate', '--json');
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out) as { ok: boolean; database: { kind: string; dir: string }; migrations: string[] };
    expect(report).toMatchObject({ ok: true, database: { kind: 'embedded', dir: join(dataDir, 'pglite') } });
    expect(report.migrations[0]).toBe('0000_init');
  });
});
