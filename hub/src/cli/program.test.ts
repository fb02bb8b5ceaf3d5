import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIo } from './io.js';
import { runCli } from './program.js';

function captureIo(env: NodeJS.ProcessEnv): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { stdout: (t) => (out += t), stderr: (t) => (err += t), env, out: () => out, err: () => err };
}

const run = (args: string[], io: CliIo) => runCli(['node', 'roadwatch-hub', ...args], { io });

describe('roadwatch-hub CLI (in process, embedded database)', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'rw-cli-'));
    env = { ROADWATCH_HUB_DATA: dataDir };
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('devices add --json prints exactly {"deviceId","secret"}; list shows the device; a repeat is a clear error', async () => {
    const io = captureIo(env);
    expect(await run(['devices', 'add', 'veh-0042', '--json'], io)).toBe(0);
    expect(io.out()).toMatch(/^\{"deviceId":"veh-0042","secret":"[^"]+"\}\n$/);

    const human = captureIo(env);
    expect(await run(['devices', 'add', 'veh-0043'], human)).toBe(0);
    expect(human.out()).toContain('will not be shown again');

    const list = captureIo(env);
    expect(await run(['devices', 'list', '--json'], list)).toBe(0);
    expect((JSON.parse(list.out()) as Array<{ deviceId: string }>).map((d) => d.deviceId)).toEqual(['veh-0042', 'veh-0043']);

    const table = captureIo(env);
    expect(await run(['devices', 'list'], table)).toBe(0);
    expect(table.out()).toMatch(/^DEVICE\s+STATE\s+LAST SEEN\s+CREATED\nveh-0042\s+unknown/);

    const again = captureIo(env);
    expect(await run(['devices', 'add', 'veh-0042'], again)).toBe(2);
    expect(again.err()).toBe('roadwatch-hub: device veh-0042 already exists — use --rotate to issue a new secret\n');

    const rotated = captureIo(env);
    expect(await run(['devices', 'add', 'veh-0042', '--rotate', '--json'], rotated)).toBe(0);
    expect(JSON.parse(rotated.out())).toEqual({ deviceId: 'veh-0042', secret: expect.any(String) });
  });

  it('tokens create prints the token once with a warning; list shows it without the token; revoke stops it', async () => {
    const human = captureIo(env);
    expect(await run(['tokens', 'create', '--name', 'dashboard', '--scope', 'read'], human)).toBe(0);
    expect(human.out()).toMatch(/^Token dashboard created with scope read \(via the embedded database in .*\)\.\n\n {2}token: rwt_[A-Za-z0-9_-]{43}\n/);
    expect(human.out()).toContain('it will not be shown again');
    expect(human.out()).toContain('Authorization: Bearer rwt_');

    const json = captureIo(env);
    expect(await run(['tokens', 'create', '--name', 'ops', '--scope', 'ack', '--json'], json)).toBe(0);
    const created = JSON.parse(json.out()) as { id: string; name: string; scope: string; token: string; prefix: string };
    expect(created).toMatchObject({ name: 'ops', scope: 'ack', token: expect.stringMatching(/^rwt_/), prefix: created.token.slice(0, 12), revokedAt: null });

    const list = captureIo(env);
    expect(await run(['tokens', 'list', '--json'], list)).toBe(0);
    const items = JSON.parse(list.out()) as Array<Record<string, unknown>>;
    expect(items.map((t) => t.name)).toEqual(['dashboard', 'ops']);
    expect(list.out()).not.toContain(created.token);

    const table = captureIo(env);
    expect(await run(['tokens', 'list'], table)).toBe(0);
    expect(table.out()).toMatch(/^NAME\s+SCOPE\s+PREFIX\s+CREATED\s+LAST USED\s+REVOKED\ndashboard\s+read\s+rwt_\S{8}…\s/);

    const revoke = captureIo(env);
    expect(await run(['tokens', 'revoke', 'ops'], revoke)).toBe(0);
    expect(revoke.out()).toBe('Token ops revoked: it no longer works.\n');
    const again = captureIo(env);
    expect(await run(['tokens', 'revoke', created.id], again)).toBe(0);
    expect(again.out()).toMatch(/^Token ops was already revoked \(\d{4}-/);
  });

  it('tokens: a bad scope, a taken name, an unknown token and a missing option are clear errors', async () => {
    const scope = captureIo(env);
    expect(await run(['tokens', 'create', '--name', 'x', '--scope', 'root'], scope)).toBe(2);
    expect(scope.err()).toBe('roadwatch-hub: invalid scope "root" — use one of read, ack, admin (read < ack < admin)\n');
    expect(await run(['tokens', 'create', '--name', 'twice', '--scope', 'read'], captureIo(env))).toBe(0);
    const dup = captureIo(env);
    expect(await run(['tokens', 'create', '--name', 'twice', '--scope', 'read'], dup)).toBe(2);
    expect(dup.err()).toContain('a token named twice already exists');
    const badName = captureIo(env);
    expect(await run(['tokens', 'create', '--name', 'has space', '--scope', 'read'], badName)).toBe(2);
    expect(badName.err()).toContain('invalid token name "has space"');
    const unknown = captureIo(env);
    expect(await run(['tokens', 'revoke', 'nobody'], unknown)).toBe(2);
    expect(unknown.err()).toBe('roadwatch-hub: no token named nobody — roadwatch-hub tokens list shows the names\n');
    const missing = captureIo(env);
    expect(await run(['tokens', 'create', '--name', 'x'], missing)).not.toBe(0);
    expect(missing.err()).toContain("required option '--scope <scope>' not specified");
  });

  it('migrate applies the migrations', async () => {
    const io = captureIo(env);
    expect(await run(['migrate'], io)).toBe(0);
    expect(io.out()).toContain('Migrations applied to the embedded database');
  });

  it('reports configuration errors at once, without a stack, exit 2', async () => {
    const io = captureIo({ ...env, ROADWATCH_HUB_HTTP_PORT: 'eighty', ROADWATCH_HUB_MQTT_PORT: '70000' });
    expect(await run(['devices', 'list'], io)).toBe(2);
    expect(io.err()).toMatch(/^roadwatch-hub: invalid hub configuration \(environment\):\n {2}httpPort: .*\n {2}mqttPort: /);
    expect(io.err()).not.toContain('    at ');
  });

  it('reports a missing or broken --config file', async () => {
    const missing = captureIo(env);
    expect(await run(['migrate', '--config', join(dataDir, 'nope.json')], missing)).toBe(2);
    expect(missing.err()).toContain('not found');
    const file = join(dataDir, 'hub.json');
    writeFileSync(file, JSON.stringify({ httpPort: 1, surprise: true }));
    const unknown = captureIo(env);
    expect(await run(['migrate', '--config', file], unknown)).toBe(2);
    expect(unknown.err()).toContain('surprise');
  });

  it('an invalid device id is a clear error', async () => {
    const io = captureIo(env);
    expect(await run(['devices', 'add', 'bad/id'], io)).toBe(2);
    expect(io.err()).toContain('invalid device id "bad/id"');
  });

  it('aggregates rebuild recomputes the rollups and reports what it did; bad times are clear errors', async () => {
    const io = captureIo(env);
    expect(await run(['aggregates', 'rebuild', '--from', '2026-11-01', '--to', '2026-11-02T06:30:00Z', '--json'], io)).toBe(0);
    expect(JSON.parse(io.out())).toEqual({
      hours: { from: '2026-11-01T00:00:00.000Z', to: '2026-11-02T07:00:00.000Z' },
      days: { from: '2026-11-01', to: '2026-11-03' },
      cellsFilled: 0,
      rows: { hourlyDevice: 0, hourlyCell: 0, dailyCell: 0 },
    });
    const human = captureIo(env);
    expect(await run(['aggregates', 'rebuild'], human)).toBe(0);
    expect(human.out()).toContain('Aggregates rebuilt in the embedded database');
    expect(human.out()).toContain('  hours: all\n  agg_hourly_device: 0 rows\n');

    const bad = captureIo(env);
    expect(await run(['aggregates', 'rebuild', '--from', 'yesterday'], bad)).toBe(2);
    expect(bad.err()).toBe('roadwatch-hub: --from "yesterday" is not an ISO 8601 date or time — for example 2026-11-01 or 2026-11-01T06:00:00Z (UTC unless an offset is given)\n');
    const empty = captureIo(env);
    expect(await run(['aggregates', 'rebuild', '--from', '2026-11-02', '--to', '2026-11-01'], empty)).toBe(2);
    expect(empty.err()).toContain('is not before --to');
  });

  it('an unknown command is a usage error', async () => {
    const io = captureIo(env);
    expect(await run(['frobnicate'], io)).not.toBe(0);
    expect(io.err()).toContain("unknown command 'frobnicate'");
  });
});
