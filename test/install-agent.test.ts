// deploy/install-agent.sh and deploy/systemd/roadwatch-agent.service (docs/RELEASE.md): a release
// installed into a fake root (--prefix), the unit verified there with `systemd-analyze verify`, an
// upgrade that keeps the device's config, an uninstall that keeps the outbox, and --purge. The live
// system is only touched by --dry-run, which prints and changes nothing.
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { appendFileSync, chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELEASE_FILES } from '../scripts/release/layout.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const UNIT = 'roadwatch-agent.service';
const UNIT_SOURCE = join(repo, 'deploy/systemd', UNIT);
const INSTALLER = join(repo, 'deploy/install-agent.sh');

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

let dir: string;

/** A release folder as build-agent.ts lays it out, with a stand-in executable (the real one: test/release.test.ts). */
function fakeRelease(version: string): string {
  const root = join(dir, 'releases', `roadwatch-agent-${version}-linux-x64`);
  mkdirSync(join(root, 'lib/node_modules'), { recursive: true });
  mkdirSync(join(root, 'models/road-damage-tiny'), { recursive: true });
  writeFileSync(join(root, 'roadwatch'), `#!/bin/sh\necho ${version}\n`);
  chmodSync(join(root, 'roadwatch'), 0o755);
  for (const [from, to] of RELEASE_FILES) {
    mkdirSync(dirname(join(root, to)), { recursive: true });
    cpSync(join(repo, from), join(root, to));
  }
  return root;
}

/** The release as a tarball, as `npm run build:agent` ships it. */
function tarball(release: string): string {
  const file = `${release}.tar.gz`;
  execFileSync('tar', ['-czf', file, '-C', dirname(release), release.slice(dirname(release).length + 1)]);
  return file;
}

const install = (...args: string[]): SpawnSyncReturns<string> => spawnSync('sh', [INSTALLER, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, LANG: 'C.UTF-8' } });

const systemdAnalyze = which('systemd-analyze');
const systemctl = which('systemctl');

/** Where this machine keeps systemd's own units (sysinit.target, multi-user.target …), which verify resolves. */
function hostUnitDir(): string {
  for (const candidate of ['/usr/lib/systemd/system', '/lib/systemd/system']) if (existsSync(join(candidate, 'sysinit.target'))) return candidate;
  throw new Error('systemd’s units (sysinit.target) are not installed: apt-get install systemd');
}

/** `systemd-analyze verify` of the installed unit inside `root`: exit 0 and not one warning. */
function verifyUnit(root: string): SpawnSyncReturns<string> {
  if (!systemdAnalyze) throw new Error('systemd-analyze is needed to verify the unit: apt-get install systemd (.ci/run does)');
  if (!existsSync(join(root, 'usr/lib/systemd/system/sysinit.target'))) {
    mkdirSync(join(root, 'usr/lib/systemd'), { recursive: true });
    cpSync(hostUnitDir(), join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  }
  return spawnSync(systemdAnalyze, ['verify', '--man=no', `--root=${root}`, UNIT], { encoding: 'utf8', env: { PATH: process.env.PATH, SYSTEMD_LOG_COLOR: '0' } });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'roadwatch-install-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('deploy/systemd/roadwatch-agent.service', () => {
  const unit = readFileSync(UNIT_SOURCE, 'utf8');
  const settings = (key: string) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!.trim());

  it('runs as its own user in dialout and video, notifies with a watchdog, restarts always, is hardened and capped', () => {
    expect(settings('User')).toEqual(['roadwatch']);
    expect(settings('SupplementaryGroups')).toEqual(['dialout video']);
    expect(settings('StateDirectory')).toEqual(['roadwatch']);
    expect(settings('ConfigurationDirectory')).toEqual(['roadwatch']);
    expect(settings('Restart')).toEqual(['always']);
    expect(settings('Type')).toEqual(['notify']);
    expect(Number(settings('WatchdogSec')[0])).toBeGreaterThan(0);
    for (const [key, value] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['PrivateTmp', 'yes'], ['DevicePolicy', 'closed']]) {
      expect(settings(key!), key).toEqual([value]);
    }
    expect(settings('DeviceAllow')).toEqual(expect.arrayContaining(['char-video4linux rw', 'char-ttyUSB rw', 'char-ttyACM rw']));
    expect(settings('MemoryMax')).toHaveLength(1);
    expect(settings('StandardOutput')).toEqual(['journal']);
    expect(settings('ExecStart')[0]).toMatch(/^\/opt\/roadwatch\/roadwatch run /);
  });

  it('systemd-analyze verify passes on it as installed (and does catch a broken copy)', () => {
    const root = join(dir, 'verify-root');
    mkdirSync(join(root, 'opt/roadwatch'), { recursive: true });
    mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
    writeFileSync(join(root, 'opt/roadwatch/roadwatch'), '#!/bin/sh\n');
    chmodSync(join(root, 'opt/roadwatch/roadwatch'), 0o755);
    cpSync(UNIT_SOURCE, join(root, 'etc/systemd/system', UNIT));
    const ok = verifyUnit(root);
    expect({ status: ok.status, stderr: ok.stderr, stdout: ok.stdout }).toEqual({ status: 0, stderr: '', stdout: '' });

    // The same check on a unit with a typo and a missing executable: verify says so.
    writeFileSync(join(root, 'etc/systemd/system', UNIT), unit.replace(/^WatchdogSec=.*$/m, 'WatchdogSec=half a minute').replace(/^NoNewPrivileges=.*$/m, 'NoNewPrivilege=yes'));
    rmSync(join(root, 'opt/roadwatch/roadwatch'));
    const bad = verifyUnit(root);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('Failed to parse sec value');
    expect(bad.stderr).toMatch(/Unknown key( name)? 'NoNewPrivilege'/);
    expect(bad.stderr).toContain('/opt/roadwatch/roadwatch is not executable');
  });
});

describe('deploy/install-agent.sh', () => {
  it('is valid POSIX sh, and says what is wrong with its arguments', () => {
    expect(spawnSync('sh', ['-n', INSTALLER]).status).toBe(0);
    if (which('dash')) expect(spawnSync('dash', ['-n', INSTALLER]).status).toBe(0);
    const help = install('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--uninstall');
    expect(help.stdout).not.toMatch(/^set -eu|^#/m); // the comment block only, without its '#'
    expect(install('--frobnicate')).toMatchObject({ status: 2, stderr: 'install-agent: unknown option --frobnicate (see --help)\n' });
    expect(install('--purge', '--prefix', join(dir, 'x'))).toMatchObject({ status: 2, stderr: 'install-agent: --purge goes with --uninstall\n' });
    const notRelease = install('--prefix', join(dir, 'x'), repo);
    expect(notRelease.status).toBe(2);
    expect(notRelease.stderr).toContain('is not a roadwatch release (roadwatch, lib/ and deploy/roadwatch-agent.service expected)');
    expect(install('--prefix', join(dir, 'x'), join(dir, 'nope.tar.gz'))).toMatchObject({ status: 2, stderr: `install-agent: ${join(dir, 'nope.tar.gz')}: no such file or folder\n` });
  });

  it('installs a release tarball into a root: executable, config from the examples, state dir, unit enabled — and the unit verifies there', () => {
    const root = join(dir, 'root');
    const r = install('--prefix', root, tarball(fakeRelease('0.1.0')));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('- skipped (--prefix): user roadwatch in groups dialout, video');
    expect(r.stdout).toContain(`installing roadwatch-agent-0.1.0-linux-x64 into ${root}/opt/roadwatch`);

    expect(execFileSync(join(root, 'opt/roadwatch/roadwatch'), { encoding: 'utf8' })).toBe('0.1.0\n');
    expect(readlinkSync(join(root, 'usr/local/bin/roadwatch'))).toBe('/opt/roadwatch/roadwatch');
    for (const [file, example] of [['agent.env', 'deploy/env/agent.env.example'], ['agent.json', 'deploy/env/agent.json.example']]) {
      const path = join(root, 'etc/roadwatch', file!);
      expect(readFileSync(path, 'utf8')).toBe(readFileSync(join(repo, example!), 'utf8'));
      expect(statSync(path).mode & 0o777).toBe(0o640);
    }
    expect(statSync(join(root, 'etc/roadwatch')).mode & 0o777).toBe(0o750);
    expect(statSync(join(root, 'var/lib/roadwatch')).mode & 0o777).toBe(0o750);
    expect(readFileSync(join(root, 'etc/systemd/system', UNIT), 'utf8')).toBe(readFileSync(UNIT_SOURCE, 'utf8'));
    if (systemctl) expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants', UNIT))).toBe(`/etc/systemd/system/${UNIT}`);
    expect(existsSync(join(root, 'opt/roadwatch.new')) || existsSync(join(root, 'opt/roadwatch.old'))).toBe(false);

    const verified = verifyUnit(root);
    expect({ status: verified.status, stderr: verified.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it('upgrades in place, keeping the device’s config; uninstall keeps the outbox and config; --purge removes them', () => {
    const root = join(dir, 'root');
    appendFileSync(join(root, 'etc/roadwatch/agent.env'), 'ROADWATCH_DEVICE_SECRET=issued-by-the-hub\n');
    writeFileSync(join(root, 'var/lib/roadwatch/outbox.sqlite'), 'events not yet synced');

    const upgrade = install('--prefix', root, fakeRelease('0.2.0'));
    expect(upgrade.status, upgrade.stderr).toBe(0);
    expect(upgrade.stdout).toContain(`keeping ${root}/etc/roadwatch/agent.env`);
    expect(execFileSync(join(root, 'opt/roadwatch/roadwatch'), { encoding: 'utf8' })).toBe('0.2.0\n');
    expect(readFileSync(join(root, 'etc/roadwatch/agent.env'), 'utf8')).toContain('ROADWATCH_DEVICE_SECRET=issued-by-the-hub');

    const removed = install('--uninstall', '--prefix', root);
    expect(removed.status, removed.stderr).toBe(0);
    expect(removed.stdout).toContain(`kept ${root}/var/lib/roadwatch (the outbox: events not yet synced)`);
    for (const gone of ['opt/roadwatch', `etc/systemd/system/${UNIT}`, `etc/systemd/system/multi-user.target.wants/${UNIT}`]) expect(existsSync(join(root, gone)), gone).toBe(false);
    expect(() => lstatSync(join(root, 'usr/local/bin/roadwatch'))).toThrow();
    expect(readFileSync(join(root, 'var/lib/roadwatch/outbox.sqlite'), 'utf8')).toBe('events not yet synced');
    expect(existsSync(join(root, 'etc/roadwatch/agent.env'))).toBe(true);

    const purged = install('--uninstall', '--purge', '--prefix', root);
    expect(purged.status, purged.stderr).toBe(0);
    expect(purged.stdout).toContain('removed, with the outbox and the config');
    expect(existsSync(join(root, 'var/lib/roadwatch'))).toBe(false);
    expect(existsSync(join(root, 'etc/roadwatch'))).toBe(false);
  });

  it('--dry-run on the live system prints the user, the files and systemctl steps, and changes nothing', () => {
    const release = fakeRelease('0.3.0');
    const before = existsSync('/opt/roadwatch');
    const r = install('--dry-run', release);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\+ (useradd --system --gid roadwatch --groups dialout,video .* roadwatch|usermod --append --groups dialout,video roadwatch)$/m);
    expect(r.stdout).toContain(`+ cp -R ${release} /opt/roadwatch.new`);
    expect(r.stdout).toContain(`+ install -m 0644 ${release}/deploy/${UNIT} /etc/systemd/system/${UNIT}`);
    expect(r.stdout).toContain(`+ systemctl enable ${UNIT}`);
    expect(existsSync('/opt/roadwatch')).toBe(before);

    const un = install('--dry-run', '--uninstall', '--purge');
    expect(un.status, un.stderr).toBe(0);
    expect(un.stdout).toContain('+ rm -rf /opt/roadwatch /opt/roadwatch.new /opt/roadwatch.old');
    expect(un.stdout).toContain('+ rm -rf /var/lib/roadwatch /etc/roadwatch');
    expect(existsSync('/opt/roadwatch')).toBe(before);
  });
});
