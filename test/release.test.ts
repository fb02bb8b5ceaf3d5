// The vehicle release (docs/RELEASE.md): built by scripts/release/build-agent.ts, unpacked into an
// empty folder and run where no node, npm or node_modules can be found.
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClip } from '../agent/src/camera/testing/fixtures.js';
import type { DoctorReport } from '../agent/src/doctor/types.js';
import { sampleEpoch } from '../agent/src/gps/testing/nmea-samples.js';
import { haveSocat, PtyPair } from '../agent/src/gps/testing/pty.js';
import { FakeHub } from '../agent/src/uplink/testing/fake-hub.js';
import { potholeFixture } from '../models/scene/fixtures.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const version = (JSON.parse(readFileSync(join(repo, 'agent/package.json'), 'utf8')) as { version: string }).version;
const arch = process.arch;
const name = `roadwatch-agent-${version}-linux-${arch}`;
const tarball = join(repo, 'dist/release', `${name}.tar.gz`);

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Why the release cannot be built here, or null. CI (.ci/run) has all of it. */
function missingTools(): string | null {
  if (process.platform !== 'linux') return `the release is built on Linux (this is ${process.platform})`;
  if (!existsSync(join(repo, 'node_modules/esbuild/package.json'))) return 'esbuild is not installed (npm ci)';
  if (!existsSync(join(repo, 'node_modules/postject/package.json'))) return 'postject is not installed (npm ci)';
  for (const tool of ['tar', 'python3']) if (!which(tool)) return `${tool} is not installed`;
  return null;
}
const skip = missingTools();

/** The newest modification time under the paths the release is made of. */
function newestInput(paths: string[]): number {
  let newest = 0;
  const visit = (path: string) => {
    const st = statSync(path);
    if (st.isDirectory()) for (const entry of readdirSync(path)) visit(join(path, entry));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const path of paths) if (existsSync(path)) visit(path);
  return newest;
}

describe.skipIf(skip !== null)(`release ${name}${skip ? ` — skipped: ${skip}` : ''}`, () => {
  let dir: string;
  let bin: string;
  let exe: string;
  /** No node on PATH: only systemd-notify (the watchdog's) in an otherwise empty folder. */
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    execFileSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-b', 'shared', 'agent'], { cwd: repo, stdio: 'inherit' });
    const inputs = ['agent/dist', 'shared/dist', 'scripts/release', 'models/road-damage-tiny/model.onnx', 'deploy/systemd', 'deploy/install-agent.sh', 'deploy/env', 'docs/RELEASE.md', 'docs/FIELD.md'];
    const fresh = existsSync(tarball) && statSync(tarball).mtimeMs > newestInput(inputs.map((p) => join(repo, p)));
    if (!fresh) {
      execFileSync(process.execPath, [join(repo, 'node_modules/tsx/dist/cli.mjs'), 'scripts/release/build-agent.ts'], { cwd: repo, stdio: ['ignore', 'inherit', 'inherit'] });
    }
    dir = mkdtempSync(join(tmpdir(), 'roadwatch-release-'));
    execFileSync('tar', ['-xzf', tarball, '-C', dir]);
    exe = join(dir, name, 'roadwatch');
    bin = join(dir, 'bin');
    mkdirSync(bin);
    const notify = which('systemd-notify');
    if (notify) symlinkSync(notify, join(bin, 'systemd-notify'));
    env = { PATH: bin, HOME: dir, LANG: 'C.UTF-8', ROADWATCH_DATA: join(dir, 'data') };
  }, 600_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = (args: string[], extra: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> =>
    spawnSync(exe, args, { cwd: dir, env: { ...env, ...extra }, encoding: 'utf8', timeout: 60_000 });

  it('holds one executable, the native packages for this machine only, and the model', () => {
    const root = join(dir, name);
    expect(statSync(exe).mode & 0o111).not.toBe(0);
    expect(existsSync(join(root, 'node_modules'))).toBe(false);
    const lib = join(root, 'lib/node_modules');
    for (const file of [
      `onnxruntime-node/bin/napi-v6/linux/${arch}/onnxruntime_binding.node`,
      `onnxruntime-node/bin/napi-v6/linux/${arch}/libonnxruntime.so.1`,
      `@img/sharp-linux-${arch}/package.json`,
      `@img/sharp-libvips-linux-${arch}/package.json`,
      'better-sqlite3/build/Release/better_sqlite3.node',
      `@serialport/bindings-cpp/prebuilds/linux-${arch}`,
    ]) {
      expect(existsSync(join(lib, file)), file).toBe(true);
    }
    expect(readdirSync(join(lib, 'onnxruntime-node/bin/napi-v6'))).toEqual(['linux']);
    expect(readdirSync(join(lib, '@serialport/bindings-cpp/prebuilds'))).toEqual([`linux-${arch}`]);
    expect(existsSync(join(root, 'models/road-damage-tiny/model.onnx'))).toBe(true);
    expect(existsSync(join(root, 'deploy/install-agent.sh'))).toBe(true);
  });

  it('installs with its own installer into a root, and runs from there', () => {
    const root = join(dir, 'root');
    const r = spawnSync('sh', [join(dir, name, 'deploy/install-agent.sh'), '--prefix', root, tarball], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const installed = spawnSync(join(root, 'opt/roadwatch/roadwatch'), ['--version'], { env, encoding: 'utf8' });
    expect(installed.stdout.trim(), installed.stderr).toBe(version);
    for (const file of ['etc/roadwatch/agent.env', 'etc/roadwatch/agent.json', 'etc/systemd/system/roadwatch-agent.service', 'opt/roadwatch/RELEASE.md', 'opt/roadwatch/FIELD.md']) {
      expect(existsSync(join(root, file)), file).toBe(true);
    }
  });

  it('runs without node: no node on PATH, --version prints the agent version', () => {
    expect(spawnSync('/bin/sh', ['-c', 'command -v node'], { env }).status).not.toBe(0);
    const r = run(['--version']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('detect finds the pothole of the generated road image with the model beside the executable', async () => {
    const image = join(dir, 'pothole.jpg');
    writeFileSync(image, (await potholeFixture()).jpeg);
    const r = run(['detect', image, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { detections: Array<{ class: string; confidence: number }>; model: string };
    expect(result.detections.map((d) => d.class)).toContain('D40');
    expect(result.model).toMatch(/^road-damage-tiny@/);
  });

  it('doctor --json on a bare machine (no config, no camera, no network): says what is missing, never crashes', () => {
    const r = run(['doctor', '--json', '--timeout', '20']);
    expect(r.stderr).not.toMatch(/Cannot find module|MODULE_NOT_FOUND|unexpected error/);
    const report = JSON.parse(r.stdout) as DoctorReport;
    expect(r.status).toBe(2);
    const by = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    expect(by.config).toMatchObject({ status: 'fail' });
    expect(by.config!.detail).toContain('deviceId: missing (set ROADWATCH_DEVICE_ID');
    expect(by.camera).toMatchObject({ status: 'warn', detail: 'no camera configured' });
    // The model loads from models/ beside the executable and runs in its worker (lib/app): onnxruntime works.
    expect(by.model, JSON.stringify(by.model)).toMatchObject({ status: 'pass', data: { runs: 10, provider: 'cpu' } });
    expect(by.outbox).toMatchObject({ status: 'pass' }); // better-sqlite3 from lib/
    expect(by['hub.dns']).toMatchObject({ status: 'skip', detail: 'no hub URL configured (ROADWATCH_HUB_URL)' });

    // /dev/null is no serial port: the answer comes from @serialport/bindings-cpp, so it loaded.
    const gps = run(['gps', '--port', '/dev/null', '--seconds', '1']);
    expect(gps.stderr).not.toMatch(/Cannot find module|MODULE_NOT_FOUND/);
    expect(gps.stderr).toMatch(/\/dev\/null/);
  }, 60_000);

  it.skipIf(!which('ffmpeg') || !haveSocat())('doctor --json on a healthy simulated vehicle (video-file camera, socat GPS, local hub): every check passes', async () => {
    // ffmpeg is the one outside program the agent needs (the camera): it is on the vehicle's PATH.
    symlinkSync(which('ffmpeg')!, join(bin, 'ffmpeg'));
    const clip = makeClip(dir, 'drive.avi', 4, 10);
    const hub = await FakeHub.start({ secrets: { 'veh-release': 'release-secret' } });
    const pty = new PtyPair(join(dir, 'ttyGPS'), join(dir, 'receiver'));
    await pty.plug();
    let i = 0;
    const feed = setInterval(() => pty.write(sampleEpoch({ at: new Date(), lat: 52.37 + ++i * 2e-5, lon: 4.89, speedKn: 20 })), 200);
    try {
      const config = join(dir, 'vehicle.json');
      writeFileSync(
        config,
        JSON.stringify({
          deviceId: 'veh-release',
          deviceSecret: 'release-secret',
          hubUrl: hub.url,
          dataDir: join(dir, 'vehicle-data'),
          camera: { source: 'file', path: clip, width: 160, height: 90, fps: 5 },
          gps: { source: 'serial', port: pty.device, baud: 9600 },
          detector: { threads: 1 },
        }),
      );
      // Asynchronously: the hub and the GPS feed run in this process while the doctor works.
      const child = spawn(exe, ['--config', config, 'doctor', '--json', '--gps-seconds', '2', '--timeout', '20'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      const report = JSON.parse(out) as DoctorReport;
      const statuses = Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
      expect(statuses, out + err).toEqual({
        config: 'pass',
        service: 'pass',
        camera: 'pass',
        gps: 'pass',
        clock: 'pass',
        model: 'pass',
        outbox: 'pass',
        disk: 'pass',
        'hub.dns': 'pass',
        'hub.tcp': 'pass',
        'hub.tls': 'skip', // mqtt://
        'hub.mqtt': 'pass',
        'hub.roundtrip': 'pass',
      });
      expect(code).toBe(0);
    } finally {
      clearInterval(feed);
      await pty.unplug();
      await hub.close();
    }
  }, 90_000);

  it.skipIf(!which('systemd-notify'))('run: READY=1, then WATCHDOG=1 pings, then STOPPING=1 on SIGTERM (through systemd-notify)', async () => {
    const socket = join(dir, 'notify.sock');
    const receiver = spawn('python3', [
      '-u',
      '-c',
      'import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("bound")\nwhile True:\n  print(s.recv(4096).decode().replace("\\n"," "))',
      socket,
    ]);
    let notes = '';
    receiver.stdout.on('data', (b: Buffer) => (notes += b.toString()));
    const until = async (what: RegExp, ms: number) => {
      for (const end = Date.now() + ms; !what.test(notes); ) {
        if (Date.now() > end) throw new Error(`no ${what} in:\n${notes}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await until(/bound/, 10_000);
      const agent = spawn(exe, ['run'], {
        cwd: dir,
        env: {
          ...env,
          ROADWATCH_DEVICE_ID: 'veh-release',
          ROADWATCH_DEVICE_SECRET: 'not-checked-offline',
          ROADWATCH_HUB_URL: 'mqtt://127.0.0.1:9',
          NOTIFY_SOCKET: socket,
          WATCHDOG_USEC: '1000000',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let log = '';
      agent.stdout.on('data', (b: Buffer) => (log += b.toString()));
      agent.stderr.on('data', (b: Buffer) => (log += b.toString()));
      const exited = new Promise<number | null>((resolve) => agent.on('exit', resolve));
      try {
        await until(/READY=1/, 30_000);
        await until(/WATCHDOG=1[\s\S]*WATCHDOG=1/, 10_000);
      } catch (error) {
        agent.kill('SIGKILL');
        throw new Error(`${(error as Error).message}\nagent log:\n${log}`);
      }
      agent.kill('SIGTERM');
      expect(await exited, log).toBe(0);
      await until(/STOPPING=1/, 5_000);
      expect(notes).toMatch(/READY=1 STATUS=running; outbox: 0 events waiting/);
    } finally {
      receiver.kill();
    }
  }, 60_000);
});
