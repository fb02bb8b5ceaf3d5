import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClip, freePort } from '../camera/testing/fixtures.js';
import { runCli } from '../cli/program.js';
import { fakeIo } from '../cli/testing/fake-io.js';
import { sampleEpoch } from '../gps/testing/nmea-samples.js';
import { haveSocat, PtyPair } from '../gps/testing/pty.js';
import { SqliteOutbox } from '../outbox/sqlite-outbox.js';
import { sampleEvents } from '../outbox/testing/sample-events.js';
import { FakeHub } from '../uplink/testing/fake-hub.js';
import { memoryLogger } from '../uplink/testing/harness.js';
import type { CheckResult, DoctorReport } from './types.js';

/**
 * A simulated vehicle with nothing wrong: a video file made with ffmpeg's lavfi as the camera, a
 * receiver on a socat pty sending NMEA stamped with the current time, the shipped model, an outbox
 * with a few events, and a hub (a real aedes broker) that checks the device secret. Then each part
 * broken on its own.
 */
let dir: string;
let clip: string;
let hub: FakeHub;
let pty: PtyPair;
let feed: NodeJS.Timeout;
const SECRET = 'right-secret';

beforeAll(async () => {
  if (!haveSocat()) throw new Error('socat is needed (apt-get install socat)');
  dir = mkdtempSync(join(tmpdir(), 'roadwatch-doctor-'));
  clip = makeClip(dir, 'drive.avi', 4, 10);
  hub = await FakeHub.start({ secrets: { 'veh-0042': SECRET } });
  pty = new PtyPair(join(dir, 'ttyGPS'), join(dir, 'receiver'));
  await pty.plug();
  let i = 0;
  feed = setInterval(() => {
    i += 1;
    pty.write(sampleEpoch({ at: new Date(), lat: 52.37 + i * 2e-5, lon: 4.89, speedKn: 20 }));
  }, 200);
}, 30_000);

afterAll(async () => {
  clearInterval(feed);
  await pty?.unplug();
  await hub?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A config for the simulated vehicle, with `change` applied (a broken part). */
function vehicle(name: string, change: (c: Record<string, any>) => void = () => {}): string {
  const config: Record<string, any> = {
    deviceId: 'veh-0042',
    deviceSecret: SECRET,
    hubUrl: hub.url,
    dataDir: join(dir, name),
    outbox: { maxBytes: 64 * 1024 * 1024 },
    camera: { source: 'file', path: clip, width: 160, height: 90, fps: 5 },
    gps: { source: 'serial', port: pty.device, baud: 9600 },
    detector: { threads: 1 },
  };
  change(config);
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

async function doctor(args: string[], clock?: () => number, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; report: DoctorReport; by: Record<string, CheckResult> }> {
  const io = fakeIo(env, clock);
  const code = await runCli([...args.slice(0, 2), 'doctor', '--json', '--timeout', '8', '--gps-seconds', '2', ...args.slice(2)], io);
  const report = JSON.parse(io.out()) as DoctorReport;
  expect(report.exitCode).toBe(code);
  return { code, report, by: Object.fromEntries(report.checks.map((c) => [c.id, c])) };
}

describe('roadwatch doctor', () => {
  it('a healthy simulated vehicle: every check passes (TLS is skipped for mqtt://), exit 0', async () => {
    const config = vehicle('healthy');
    const outbox = SqliteOutbox.open({ path: join(dir, 'healthy', 'outbox.sqlite'), logger: memoryLogger('silent').logger, maxBytes: 64 * 1024 * 1024, maxAgeMs: 30 * 86_400_000 });
    outbox.append(sampleEvents(5));
    outbox.close();

    const { code, report, by } = await doctor(['--config', config]);
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      ['config', 'pass'],
      ['service', 'pass'],
      ['camera', 'pass'],
      ['gps', 'pass'],
      ['clock', 'pass'],
      ['model', 'pass'],
      ['outbox', 'pass'],
      ['disk', 'pass'],
      ['hub.dns', 'pass'],
      ['hub.tcp', 'pass'],
      ['hub.tls', 'skip'],
      ['hub.mqtt', 'pass'],
      ['hub.roundtrip', 'pass'],
    ]);
    expect(code).toBe(0);
    expect(report).toMatchObject({ ok: true, deviceId: 'veh-0042', summary: { pass: 12, warn: 0, fail: 0, skip: 1 } });
    expect(by.service!.data).toMatchObject({ running: false });
    expect(by.camera!.data).toMatchObject({ camera: `file:${clip}`, width: 160, height: 90, configuredFps: 5 });
    expect(by.camera!.detail).toMatch(/^file:.*drive\.avi: first frame after \d\.\d s, 160×90, \d\.\d fps measured \(5 configured\)$/);
    expect(by.gps!.data).toMatchObject({ gps: `serial:${pty.device}`, mode: 3, sats: 9, hdop: 0.9, checksumErrors: 0, checksumErrorRate: 0 });
    expect(by.gps!.detail).toMatch(/3D fix 52\.\d{7}, 4\.8900000, 9 sats, HDOP 0\.9; \d+ sentences in \d\.\d s, 0 checksum errors \(0\.0 %\)/);
    expect(by.clock!.detail).toMatch(/^the system clock agrees with GPS time within \d+ ms/);
    expect(by.model!.data).toMatchObject({ runs: 10, provider: 'cpu', threads: 1 });
    expect(by.model!.detail).toMatch(/^road-damage-tiny@1\S* loaded in \d+\.\d s \(cpu ×1\); 10 inferences on the camera's 160×90 frame: p50 [\d.]+ ms, p95 [\d.]+ ms$/);
    expect(by.outbox!.detail).toMatch(/^integrity ok; 5 events \([\d.]+ KiB\) waiting, oldest unsynced \d+s, never acked$/);
    expect(readdirSync(join(dir, 'healthy')).sort()).toEqual(['outbox.sqlite']); // no -wal/-shm left (they would be root's)
    expect(by.disk!.data).toMatchObject({ maxBytes: 64 * 1024 * 1024 });
    expect(by['hub.tcp']!.detail).toMatch(/^127\.0\.0\.1:\d+ accepts connections/);
    expect(by['hub.mqtt']!.detail).toMatch(/^accepted as veh-0042 \(CONNACK 0\) in \d+ ms$/);
    expect(by['hub.roundtrip']!.detail).toMatch(/^status published \(QoS 1\), the hub acknowledged it after \d+ ms$/);

    // The table for people: one row per check, the verdict last.
    const io = fakeIo();
    expect(await runCli(['--config', config, 'doctor', '--only', 'outbox,hub', '--timeout', '5'], io)).toBe(0);
    expect(io.out()).toMatch(/^PASS {2}outbox \(SQLite\) +integrity ok; 5 events/m);
    expect(io.out()).toMatch(/^skip {2}hub: TLS +mqtt:\/\/127\.0\.0\.1:\d+ is plain MQTT/m);
    expect(io.out()).toMatch(/\nall passed: 7 passed, 0 warnings, 0 failed, 1 skipped \(exit 0\)\n$/);
  });

  it('GPS unplugged (no such port): the GPS check fails and says to plug it in', async () => {
    const missing = join(dir, 'ttyUSB9');
    const { code, by } = await doctor(['--config', vehicle('no-gps', (c) => (c.gps.port = missing)), '--only', 'gps']);
    expect(code).toBe(2);
    expect(by.gps).toMatchObject({ status: 'fail', detail: `GPS port ${missing} not found` });
    expect(by.gps!.hint).toMatch(/^is the receiver plugged in\? check gps\.port/);
  });

  it('no camera (missing device): the camera check fails with ffmpeg’s words and the fix', async () => {
    const { code, by } = await doctor(['--config', vehicle('no-camera', (c) => (c.camera = { source: 'v4l2', device: '/dev/video99', width: 160, height: 90 })), '--only', 'camera']);
    expect(code).toBe(2);
    expect(by.camera).toMatchObject({ status: 'fail', detail: 'camera v4l2:/dev/video99: ffmpeg: /dev/video99: No such file or directory' });
    expect(by.camera!.hint).toBe('check the camera is plugged in (ls /dev/video*) and camera.device');
  });

  it('hub down (closed port): TCP connect fails naming connection refused; the rest is not tried', async () => {
    const port = await freePort();
    const { code, by } = await doctor(['--config', vehicle('hub-down', (c) => (c.hubUrl = `mqtt://127.0.0.1:${port}`)), '--only', 'hub']);
    expect(code).toBe(2);
    expect(by['hub.dns']!.status).toBe('pass');
    expect(by['hub.tcp']).toMatchObject({ status: 'fail', detail: `connection refused by 127.0.0.1:${port}` });
    expect(by['hub.tcp']!.hint).toMatch(/is the hub running/);
    expect([by['hub.mqtt']!.status, by['hub.roundtrip']!.status]).toEqual(['skip', 'skip']);
  });

  it('wrong secret: the MQTT login fails with CONNACK 4 and says to check ROADWATCH_DEVICE_SECRET', async () => {
    const { code, by } = await doctor(['--config', vehicle('bad-secret', (c) => (c.deviceSecret = 'wrong')), '--only', 'hub']);
    expect(code).toBe(2);
    expect(by['hub.tcp']!.status).toBe('pass');
    expect(by['hub.mqtt']).toMatchObject({ status: 'fail', detail: 'the hub refused CONNECT as veh-0042: CONNACK 4, bad user name or password', data: { connack: 4 } });
    expect(by['hub.mqtt']!.hint).toMatch(/^check ROADWATCH_DEVICE_SECRET/);
    expect(by['hub.roundtrip']!.status).toBe('skip');
  });

  it('disk nearly full (the outbox close to its cap, filled in the last hour): the buffer check fails with the hint', async () => {
    const config = vehicle('full', (c) => (c.outbox.maxBytes = 1024 * 1024));
    const outbox = SqliteOutbox.open({ path: join(dir, 'full', 'outbox.sqlite'), logger: memoryLogger('silent').logger, maxBytes: 1024 * 1024, maxAgeMs: 30 * 86_400_000 });
    while (outbox.stats().bytes < 0.97 * 1024 * 1024) outbox.append(sampleEvents(200));
    outbox.close();
    const { code, by } = await doctor(['--config', config, '--only', 'outbox,disk']);
    expect(code).toBe(2);
    expect(by.outbox!.status).toBe('pass');
    expect(by.disk!.status).toBe('fail');
    expect(by.disk!.detail).toMatch(/queued of outbox\.maxBytes 1\.0 MiB; room for 0\.\d h more at [\d.]+ KiB\/h queued lately$/);
    expect(by.disk!.hint).toMatch(/^sync soon .* when the room runs out the oldest events are evicted$/);
    expect((by.disk!.data as { bufferHours: number }).bufferHours).toBeLessThan(0.1);
  });

  it('GPS plugged in but silent (no power to the receiver, or a wrong port): fails naming no sentences', async () => {
    const silent = new PtyPair(join(dir, 'ttySilent'), join(dir, 'silent-receiver'));
    await silent.plug();
    try {
      const { code, by } = await doctor(['--config', vehicle('silent-gps', (c) => (c.gps.port = silent.device)), '--only', 'gps']);
      expect(code).toBe(2);
      expect(by.gps!.status).toBe('fail');
      expect(by.gps!.detail).toMatch(new RegExp(`^serial:${silent.device.replace(/[/.]/g, '\\$&')}: no NMEA sentences in \\d\\.\\d s`));
      expect(by.gps!.hint).toMatch(/power|cable|baud/);
      expect(by.gps!.data).toMatchObject({ sentences: 0, mode: null });
    } finally {
      await silent.unplug();
    }
  });

  it('GPS on a noisy line: the checksum error rate warns, with the hint', async () => {
    const noisy = new PtyPair(join(dir, 'ttyNoisy'), join(dir, 'noisy-receiver'));
    await noisy.plug();
    // Every other sentence arrives with a damaged checksum.
    const timer = setInterval(() => {
      const lines = sampleEpoch({ at: new Date(), lat: 52.37, lon: 4.89, speedKn: 20 }).split('\r\n').filter(Boolean);
      noisy.write(lines.map((l, i) => (i % 2 === 1 ? `${l.slice(0, -2)}00` : l)).join('\r\n') + '\r\n');
    }, 200);
    try {
      const { code, by } = await doctor(['--config', vehicle('noisy-gps', (c) => (c.gps.port = noisy.device)), '--only', 'gps']);
      expect(code).toBe(1);
      expect(by.gps!.status).toBe('warn');
      expect((by.gps!.data as { checksumErrorRate: number }).checksumErrorRate).toBeGreaterThan(0.3);
      expect(by.gps!.detail).toMatch(/\d+ checksum errors \(\d+\.\d %\)$/);
      expect(by.gps!.hint).toBe('a loose cable, electrical noise, or a wrong gps.baud');
    } finally {
      clearInterval(timer);
      await noisy.unplug();
    }
  });

  it('no network (the hub’s name does not resolve): DNS fails with the hint, nothing after it is tried', async () => {
    const { code, by } = await doctor(['--config', vehicle('no-dns', (c) => (c.hubUrl = 'mqtts://hub.roadwatch.invalid:8883')), '--only', 'hub']);
    expect(code).toBe(2);
    expect(by['hub.dns']!.status).toBe('fail');
    expect(by['hub.dns']!.detail).toMatch(/^hub\.roadwatch\.invalid: (no such host name|no DNS answer)/);
    expect(by['hub.dns']!.hint).toMatch(/ROADWATCH_HUB_URL|no network/);
    expect(['hub.tcp', 'hub.tls', 'hub.mqtt', 'hub.roundtrip'].map((id) => by[id]!.status)).toEqual(['skip', 'skip', 'skip', 'skip']);
  });

  it('system clock an hour off GPS time: the clock check warns and names the time sync', async () => {
    const { code, by } = await doctor(['--config', vehicle('skewed'), '--only', 'clock'], () => Date.now() + 3_600_000);
    expect(code).toBe(1);
    expect(by.clock).toMatchObject({ status: 'warn', detail: 'the system clock is 3600 s ahead of GPS time (from the GPS fixes)' });
    expect(by.clock!.hint).toMatch(/timedatectl status/);
    expect(Math.abs((by.clock!.data as { wallMinusGpsMs: number }).wallMinusGpsMs - 3_600_000)).toBeLessThan(2_000);
  });

  it('mqtts:// with a private CA: TLS passes with ROADWATCH_HUB_CA_FILE, and without it fails naming the fix', async () => {
    const tlsDir = join(dir, 'tls');
    makeCertificates(tlsDir);
    const broker = await Aedes.createBroker();
    const server = createTlsServer({ key: readFileSync(join(tlsDir, 'server.key')), cert: readFileSync(join(tlsDir, 'server.crt')) }, broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `mqtts://localhost:${(server.address() as AddressInfo).port}`;
    try {
      const trusted = await doctor(['--config', vehicle('tls-ca', (c) => Object.assign(c, { hubUrl: url, uplink: { caFile: join(tlsDir, 'ca.crt') } })), '--only', 'hub']);
      expect(trusted.report.checks.map((c) => c.status)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass']);
      expect(trusted.by['hub.tls']!.detail).toMatch(/^TLSv1\.[23] with localhost:\d+, certificate for localhost valid until /);

      const untrusted = await doctor(['--config', vehicle('tls-no-ca', (c) => (c.hubUrl = url)), '--only', 'hub']);
      expect(untrusted.by['hub.tls']).toMatchObject({ status: 'fail', data: { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' } });
      expect(untrusted.by['hub.tls']!.hint).toMatch(/ROADWATCH_HUB_CA_FILE/);
      expect(untrusted.by['hub.mqtt']!.status).toBe('skip');
    } finally {
      await new Promise<void>((resolve) => broker.close(() => server.close(() => resolve())));
    }
  });

  it('clock in 1970: the clock check fails (the GPS is still heard), and the rest of the checks still run', async () => {
    const { code, by } = await doctor(['--config', vehicle('1970'), '--only', 'gps,clock,outbox,disk,hub'], () => 0);
    expect(code).toBe(2);
    expect(by.clock).toMatchObject({ status: 'fail', detail: 'the system clock says 1970-01-01T00:00:00.000Z, before this release (2026-01-01): it was never set' });
    expect(by.clock!.hint).toMatch(/TLS to the hub fails/);
    expect(by.gps!.status).toBe('pass'); // the receiver is fine; its time is what the clock should have
    expect([by.outbox!.status, by.disk!.status, by['hub.mqtt']!.status]).toEqual(['pass', 'pass', 'pass']);
  });

  it('a stripped-down image — no config, no ffmpeg, no model: says what is missing, never crashes', async () => {
    const bare = await doctor([], undefined, { ROADWATCH_DATA: join(dir, 'bare') });
    expect(bare.by.config).toMatchObject({ status: 'fail' });
    expect(bare.by.config!.detail).toContain('deviceId: missing (set ROADWATCH_DEVICE_ID');
    expect(bare.by.config!.detail).toContain('hubUrl: missing');
    expect(bare.by.camera).toMatchObject({ status: 'warn', detail: 'no camera configured' });
    expect(bare.by.gps!.status).toBe('skip');
    expect(bare.by['hub.dns']).toMatchObject({ status: 'skip', detail: 'no hub URL configured (ROADWATCH_HUB_URL)' });
    expect(bare.code).toBe(2);

    const config = vehicle('stripped', (c) => {
      c.camera.ffmpegPath = join(dir, 'no-ffmpeg');
      c.detector.modelPath = join(dir, 'no-model.onnx');
    });
    const { by } = await doctor(['--config', config, '--only', 'camera,model']);
    expect(by.camera).toMatchObject({ status: 'fail', detail: `ffmpeg not found at "${join(dir, 'no-ffmpeg')}": install it (apt install ffmpeg) or set camera.ffmpegPath` });
    expect(by.model!.status).toBe('fail');
    expect(by.model!.detail).toContain('no-model.onnx');
  });
});

/** A private CA and a certificate for localhost signed by it (openssl). */
function makeCertificates(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const run = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=roadwatch test CA');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'ext.cnf');
}
