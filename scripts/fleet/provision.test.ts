import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mosquittoUsers, setMosquittoPasswords, verifyMosquittoHash } from '../../hub/src/cli/mosquitto-passwd.js';
import { fleetDeviceIds } from './provision.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('bulk Mosquitto provisioning', () => {
  it('writes a whole fleet in one go, keeping other lines and replacing existing users', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-fleet-passwd-'));
    dirs.push(dir);
    const file = join(dir, 'passwd');
    writeFileSync(file, '# managed by roadwatch\nroadwatch-hub:$7$101$aaaa$bbbb\nsim-00002:$7$101$old$old\n');
    const ids = fleetDeviceIds(300);
    const result = setMosquittoPasswords(file, ids.map((id) => [id, `secret-${id}`] as const));
    expect(result).toMatchObject({ change: 'updated', created: false });
    const users = mosquittoUsers(file);
    expect(users.size).toBe(301);
    expect(users.get('roadwatch-hub')).toBe('$7$101$aaaa$bbbb');
    for (const id of ids) expect(verifyMosquittoHash(`secret-${id}`, users.get(id)!)).toBe(true);
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('# managed by roadwatch\n')).toBe(true);
    expect(text.match(/^sim-00002:/gm)).toHaveLength(1);
  });

  it('numbers device ids so they sort in fleet order', () => {
    expect(fleetDeviceIds(3, 'veh')).toEqual(['veh-00001', 'veh-00002', 'veh-00003']);
    expect(fleetDeviceIds(123_456).at(-1)).toBe('sim-123456');
  });
});
