import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, UserError } from '@roadwatch/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../broker/testing/harness.js';
import { createHub } from '../main.js';
import { checkStartup, startupProblems } from './preflight.js';
import { HUB_ENV, HubConfigSchema } from './schema.js';

const caught = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return null;
};

describe('hub start-up validation', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rw-preflight-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports every bad value of file and environment at once, naming the variable or key', () => {
    const file = join(dir, 'hub.json');
    writeFileSync(file, JSON.stringify({ alarms: { timerS: 0 }, db: { poolSize: 0 }, mqtt: { tlsCertFile: 'only-cert.pem' }, surprise: 1 }));
    const error = caught(() =>
      loadConfig(HubConfigSchema, {
        file,
        env: { ROADWATCH_HUB_HTTP_PORT: 'eighty', ROADWATCH_HUB_UPLINK_MAX_BODY_BYTES: '12', DATABASE_URL: 'mysql://x', ROADWATCH_HUB_LOG_LEVEL: 'loud' },
        bindings: HUB_ENV,
        what: 'hub',
      }),
    );
    expect(error).toBeInstanceOf(UserError);
    const message = (error as Error).message;
    for (const expected of [
      /databaseUrl: DATABASE_URL must start with postgres:\/\//,
      /httpPort: .*\(set ROADWATCH_HUB_HTTP_PORT/,
      /logLevel: .*\(set ROADWATCH_HUB_LOG_LEVEL/,
      /uplink\.maxBodyBytes: .*\(set ROADWATCH_HUB_UPLINK_MAX_BODY_BYTES/,
      /db\.poolSize: /,
      /alarms\.timerS: /,
      /mqtt: set both mqtt\.tlsCertFile and mqtt\.tlsKeyFile/,
      /surprise/,
    ]) {
      expect(message).toMatch(expected);
    }
    expect(message).toMatch(/^invalid hub configuration \(file .* and environment\):\n/);
  });

  it('defaults uplink.maxBodyBytes to the MQTT payload limit and reads it from the environment', () => {
    expect(HubConfigSchema.parse({}).uplink.maxBodyBytes).toBe(HubConfigSchema.parse({}).mqtt.maxPayloadBytes);
    const config = loadConfig(HubConfigSchema, { env: { ROADWATCH_HUB_UPLINK_MAX_BODY_BYTES: '65536' }, bindings: HUB_ENV, what: 'hub' });
    expect(config.uplink.maxBodyBytes).toBe(65536);
  });

  it('reports every unusable path at once: data dir, TLS certificate and key', () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'not a directory');
    const config = HubConfigSchema.parse({ dataDir: join(blocker, 'hub'), mqtt: { tlsCertFile: join(dir, 'missing-cert.pem'), tlsKeyFile: join(dir, 'missing-key.pem') } });
    expect(startupProblems(config)).toEqual([
      `dataDir ${join(blocker, 'hub')}: a parent is not a directory — fix ROADWATCH_HUB_DATA or give the hub's user write access to it`,
      `mqtt.tlsCertFile ${join(dir, 'missing-cert.pem')}: not found — fix mqtt.tlsCertFile (ROADWATCH_HUB_TLS_CERT) or unset both TLS files to use plain TCP`,
      `mqtt.tlsKeyFile ${join(dir, 'missing-key.pem')}: not found — fix mqtt.tlsKeyFile (ROADWATCH_HUB_TLS_KEY) or unset both TLS files to use plain TCP`,
    ]);
    const error = caught(() => checkStartup(config));
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/^the hub cannot start \(3 problems\):\n {2}dataDir .*\n {2}mqtt\.tlsCertFile .*\n {2}mqtt\.tlsKeyFile /);
    expect(startupProblems(HubConfigSchema.parse({ dataDir: join(dir, 'fine') }))).toEqual([]);
  });

  it.skipIf(process.getuid?.() === 0)('names a data dir the hub may not write', () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    try {
      expect(startupProblems(HubConfigSchema.parse({ dataDir: locked }))).toEqual([
        `dataDir ${locked}: permission denied — fix ROADWATCH_HUB_DATA or give the hub's user write access to it`,
      ]);
    } finally {
      chmodSync(locked, 0o700);
    }
  });

  it('createHub.start refuses before opening the database or any port', async () => {
    const { logger, lines } = memoryLogger();
    const dataDir = join(dir, 'hub-data');
    const config = HubConfigSchema.parse({ dataDir, host: '127.0.0.1', httpPort: 0, mqttPort: 0, mqtt: { tlsCertFile: join(dir, 'nope.pem'), tlsKeyFile: join(dir, 'nope.key') } });
    const error = await createHub(config, { logger }).start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain('the hub cannot start (2 problems)');
    expect(lines.map((l) => l.msg)).not.toContain('http listening');
    expect(lines.map((l) => l.msg)).not.toContain('opened embedded PGlite database');
    expect(existsSync(join(dataDir, 'admin.json'))).toBe(false);
  });
});
