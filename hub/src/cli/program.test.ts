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

  it('an unknown command is a usage error', async () => {
    const io = captureIo(env);
    expect(await run(['frobnicate'], io)).not.toBe(0);
    expect(io.err()).toContain("unknown command 'frobnicate'");
  });
});
