import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIo } from './io.js';
import { mosquittoUsers, verifyMosquittoHash } from './mosquitto-passwd.js';
import { runCli } from './program.js';

function captureIo(env: NodeJS.ProcessEnv): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { stdout: (t) => (out += t), stderr: (t) => (err += t), env, out: () => out, err: () => err };
}

describe('provisioning an external Mosquitto: devices … --mosquitto-passwd, broker passwd', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let passwd: string;
  const run = async (...args: string[]) => {
    const io = captureIo(env);
    const code = await runCli(['node', 'roadwatch-hub', ...args], { io });
    return { code, out: io.out(), err: io.err() };
  };
  const brokerAccepts = (user: string, password: string) => {
    const hash = mosquittoUsers(passwd).get(user);
    return hash !== undefined && verifyMosquittoHash(password, hash);
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rw-broker-cli-'));
    passwd = join(dir, 'passwd');
    env = { ROADWATCH_HUB_DATA: join(dir, 'hub') };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the same secret to the hub and the broker; rotate-secret replaces it; revoke removes the device', async () => {
    const added = await run('devices', 'add', 'veh-0042', '--mosquitto-passwd', passwd, '--json');
    expect(added.code, added.err).toBe(0);
    const first = JSON.parse(added.out) as { deviceId: string; secret: string; mosquittoPasswd: unknown };
    expect(first.mosquittoPasswd).toEqual({ file: passwd, change: 'added', created: true });
    expect(brokerAccepts('veh-0042', first.secret)).toBe(true);

    const rotated = await run('devices', 'rotate-secret', 'veh-0042', '--mosquitto-passwd', passwd);
    expect(rotated.code, rotated.err).toBe(0);
    const second = /secret: (\S+)/.exec(rotated.out)![1]!;
    expect(rotated.out).toContain(`Broker: updated in ${passwd}.\nReload Mosquitto so it reads the file: systemctl reload mosquitto (or kill -HUP <mosquitto pid>).\n`);
    expect(brokerAccepts('veh-0042', first.secret)).toBe(false);
    expect(brokerAccepts('veh-0042', second)).toBe(true);

    const revoked = await run('devices', 'revoke', 'veh-0042', '--mosquitto-passwd', passwd, '--json');
    expect(revoked.code, revoked.err).toBe(0);
    expect(JSON.parse(revoked.out)).toMatchObject({ deviceId: 'veh-0042', revoked: true, mosquittoPasswd: { change: 'removed' } });
    expect(mosquittoUsers(passwd).has('veh-0042')).toBe(false);
  }, 120_000); // each command opens the embedded database

  it('checks the file and the id before registering anything', async () => {
    const unwritable = await run('devices', 'add', 'veh-1', '--mosquitto-passwd', join(dir, 'no-such-dir', 'passwd'));
    expect(unwritable.code).toBe(2);
    expect(unwritable.err).toBe(
      `roadwatch-hub: Mosquitto password file ${join(dir, 'no-such-dir', 'passwd')}: its directory does not exist — pass the password_file of your mosquitto.conf (--mosquitto-passwd) and run as a user who may write it\n`,
    );
    const hubUser = await run('devices', 'add', 'roadwatch-hub', '--mosquitto-passwd', passwd);
    expect(hubUser.code).toBe(2);
    expect(hubUser.err).toContain("device id roadwatch-hub is the hub's own user on the broker");
    const list = await run('devices', 'list', '--json');
    expect(JSON.parse(list.out)).toEqual([]);
  }, 60_000);

  it('warns in scale-out mode when the broker is not told about a new device', async () => {
    env = { ...env, ROADWATCH_HUB_MQTT_URL: 'mqtt://broker:1884', ROADWATCH_HUB_MQTT_USERNAME: 'roadwatch-hub', ROADWATCH_HUB_MQTT_PASSWORD: 'x' };
    const added = await run('devices', 'add', 'veh-7', '--json');
    expect(added.code, added.err).toBe(0);
    expect(added.err).toContain('note: this hub uses an external MQTT broker (mqtt.url): the vehicle connects once the broker knows these credentials');
  }, 60_000);

  it('broker passwd sets a random password for the hub replicas, printed once; --delete removes the user', async () => {
    const made = await run('broker', 'passwd', passwd, 'roadwatch-hub');
    expect(made.code, made.err).toBe(0);
    const password = /password: (\S+)/.exec(made.out)![1]!;
    expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(made.out).toContain(`For the hub replicas: ROADWATCH_HUB_MQTT_USERNAME=roadwatch-hub ROADWATCH_HUB_MQTT_PASSWORD=${password}`);
    expect(brokerAccepts('roadwatch-hub', password)).toBe(true);

    const json = await run('broker', 'passwd', passwd, 'roadwatch-hub', '--json');
    const again = JSON.parse(json.out) as { password: string; change: string };
    expect(again.change).toBe('updated');
    expect(brokerAccepts('roadwatch-hub', again.password)).toBe(true);
    expect(brokerAccepts('roadwatch-hub', password)).toBe(false);

    const deleted = await run('broker', 'passwd', passwd, 'roadwatch-hub', '--delete');
    expect(deleted.out).toMatch(/^User roadwatch-hub removed from /);
    expect(mosquittoUsers(passwd).size).toBe(0);
  });
});
