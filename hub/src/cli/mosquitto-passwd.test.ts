import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mosquittoHash, mosquittoUsers, removeMosquittoUser, setMosquittoPassword, verifyMosquittoHash } from './mosquitto-passwd.js';

/** Written by `mosquitto_passwd -b passwd veh-1 s1` (Mosquitto 2.0.11). */
const FROM_MOSQUITTO_PASSWD = '$7$101$xcGnLQmNqvvImsiV$FRnEPNbUgsRNx9KDhDBn8eRyOyQXn7/0VW9Pa28riozodcygG11UsWv4PepAFZ7PBKVrhKrmTj70DTPtgkDo2Q==';

describe('Mosquitto password file', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rw-passwd-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('hashes as mosquitto_passwd does (PBKDF2-SHA512, $7$)', () => {
    expect(verifyMosquittoHash('s1', FROM_MOSQUITTO_PASSWD)).toBe(true);
    expect(verifyMosquittoHash('s2', FROM_MOSQUITTO_PASSWD)).toBe(false);
    const salt = Buffer.from('xcGnLQmNqvvImsiV', 'base64');
    expect(mosquittoHash('s1', { salt })).toBe(FROM_MOSQUITTO_PASSWD);
    const fresh = mosquittoHash('secret');
    expect(fresh).toMatch(/^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
    expect(fresh).not.toBe(mosquittoHash('secret')); // a new salt each time
    expect(verifyMosquittoHash('secret', fresh)).toBe(true);
    expect(verifyMosquittoHash('secret', '$6$abc$def')).toBe(false);
  });

  it('adds, updates and removes one user, keeping every other line, the mode and a trailing newline', () => {
    const file = join(dir, 'passwd');
    writeFileSync(file, `# managed by hand\nroadwatch-hub:${FROM_MOSQUITTO_PASSWD}\n`);
    chmodSync(file, 0o640);
    expect(setMosquittoPassword(file, 'veh-1', 'one')).toEqual({ file, change: 'added', created: false });
    expect(setMosquittoPassword(file, 'veh-2', 'two').change).toBe('added');
    expect(setMosquittoPassword(file, 'veh-1', 'uno').change).toBe('updated');
    const users = mosquittoUsers(file);
    expect([...users.keys()]).toEqual(['roadwatch-hub', 'veh-1', 'veh-2']);
    expect(users.get('roadwatch-hub')).toBe(FROM_MOSQUITTO_PASSWD);
    expect(verifyMosquittoHash('uno', users.get('veh-1')!)).toBe(true);
    expect(verifyMosquittoHash('two', users.get('veh-2')!)).toBe(true);
    expect(readFileSync(file, 'utf8')).toMatch(/^# managed by hand\nroadwatch-hub:\$7\$.*\nveh-1:\$7\$.*\nveh-2:\$7\$.*\n$/);
    expect(statSync(file).mode & 0o777).toBe(0o640);

    expect(removeMosquittoUser(file, 'veh-1').change).toBe('removed');
    expect(removeMosquittoUser(file, 'veh-1').change).toBe('absent');
    expect([...mosquittoUsers(file).keys()]).toEqual(['roadwatch-hub', 'veh-2']);
  });

  it('creates a missing file with mode 0600 and refuses what Mosquitto could not read back', () => {
    const file = join(dir, 'new-passwd');
    expect(setMosquittoPassword(file, 'roadwatch-hub', 'pw')).toEqual({ file, change: 'added', created: true });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(() => setMosquittoPassword(file, 'a:b', 'pw')).toThrow('"a:b" cannot be a Mosquitto user name — use 1–128 characters without ":" or white space');
    expect(() => setMosquittoPassword(join(dir, 'missing-dir', 'passwd'), 'veh-1', 'pw')).toThrow(
      `Mosquitto password file ${join(dir, 'missing-dir', 'passwd')}: its directory does not exist — pass the password_file of your mosquitto.conf (--mosquitto-passwd) and run as a user who may write it`,
    );
  });
});
