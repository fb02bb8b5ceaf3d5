import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeIo } from '../cli/testing/fake-io.js';
import { runCli } from '../cli/program.js';
import type { DoctorReport } from '../doctor/types.js';
import { sampleEpoch } from '../gps/testing/nmea-samples.js';
import { haveSocat, PtyPair } from '../gps/testing/pty.js';
import { createAgent, type Agent } from '../main.js';
import { sampleEvents } from '../outbox/testing/sample-events.js';
import { freePort } from '../camera/testing/fixtures.js';
import { FakeHub } from '../uplink/testing/fake-hub.js';
import { memoryLogger, testConfig, waitFor } from '../uplink/testing/harness.js';
import { StatusSchema, type Status } from '@roadwatch/shared';
import type { SyncReport } from './api.js';
import { ControlClient } from './client.js';
import type { AgentStatus } from './status.js';

/**
 * One running service for the whole file: a live camera (ffmpeg's test pattern as MJPEG through a
 * capture command), a GPS receiver on a socat pty fed at 5 Hz with the current time, the shipped
 * model, and a hub (a real aedes broker) that checks the device secret.
 */
let dir: string;
let dataDir: string;
let hub: FakeHub;
let pty: PtyPair;
let feed: NodeJS.Timeout;
let agent: Agent;
let client: ControlClient;
/** Every status the agent published to the hub. */
const statuses: Status[] = [];
const env = () => ({ ROADWATCH_DATA: dataDir });

beforeAll(async () => {
  if (!haveSocat()) throw new Error('socat is needed (apt-get install socat)');
  dir = mkdtempSync(join(tmpdir(), 'roadwatch-ctl-'));
  dataDir = join(dir, 'data');
  hub = await FakeHub.start({ secrets: { 'veh-test': 'secret-for-tests' } });
  await new Promise<void>((resolve) =>
    hub.broker.subscribe('roadwatch/v1/devices/+/status', (packet, done) => {
      statuses.push(JSON.parse(packet.payload.toString()) as Status);
      done();
    }, resolve),
  );
  pty = new PtyPair(join(dir, 'ttyGPS'), join(dir, 'receiver'));
  await pty.plug();
  let i = 0;
  feed = setInterval(() => {
    i += 1;
    pty.write(sampleEpoch({ at: new Date(), lat: 52.37 + i * 2e-5, lon: 4.89, speedKn: 20, courseDeg: 0 }));
  }, 200);
  const producer = 'exec ffmpeg -hide_banner -nostdin -loglevel error -re -f lavfi -i testsrc=size=160x90:rate=5 -c:v mjpeg -q:v 5 -f mjpeg -';
  const config = testConfig({
    hubUrl: hub.url,
    dataDir,
    camera: { source: 'command', command: ['sh', '-c', producer], width: 160, height: 90, fps: 5 },
    gps: { source: 'serial', port: pty.device, baud: 9600 },
    detector: { threads: 1 },
    uplink: { statusIntervalMs: 1_000 },
  });
  agent = createAgent(config, { logger: memoryLogger('silent').logger });
  await agent.start();
  client = new ControlClient({ kind: 'socket', path: join(dataDir, 'control.sock') });
  // The fps window needs two samples a second apart, the GPS a fix, the detector a frame.
  await waitFor(
    'camera, GPS and detector at work',
    () => {
      const live = agent.sensing();
      return live !== null && (live.detector.latency().count ?? 0) > 2 && live.gps.status().state === 'ok' && agent.uplink.uplinkState === 'online';
    },
    20_000,
  );
  await new Promise((r) => setTimeout(r, 1200));
}, 60_000);

afterAll(async () => {
  clearInterval(feed);
  await agent?.stop();
  await pty?.unplug();
  await hub?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the control endpoint of a running service', () => {
  it('GET /status: camera fps over 10 s, detector latency, GPS fix, clock, fusion, outbox, uplink, sensors', async () => {
    expect(statSync(join(dataDir, 'control.sock')).mode & 0o777).toBe(0o660);
    const s = await client.json<AgentStatus>('GET', '/status');
    expect(s.agent).toMatchObject({ deviceId: 'veh-test', pid: process.pid, dataDir });
    expect(s.agent.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(s.health).toEqual({ ok: true, reasons: [], warnings: [] });
    expect(s.camera).toMatchObject({ name: 'command:sh', state: 'ok', width: 160, height: 90, configuredFps: 5, decodeErrors: 0 });
    expect(s.camera!.fps).toBeGreaterThan(2);
    expect(s.camera!.fps).toBeLessThan(8);
    expect(s.camera!.framesIn).toBeGreaterThan(5);
    expect(s.detector).toMatchObject({ state: 'ok', fault: null, provider: 'cpu', threads: 1, framesFailed: 0 });
    expect(s.detector!.model).toMatch(/^road-damage-tiny@1/);
    expect(s.detector!.latency!.p50Ms).toBeGreaterThan(0);
    expect(s.detector!.latency!.p95Ms).toBeGreaterThanOrEqual(s.detector!.latency!.p50Ms!);
    expect(s.detector!.fps).toBeGreaterThan(0);
    expect(s.detector!.fps).toBeLessThan(8);
    expect(s.gps).toMatchObject({ name: `serial:${pty.device}`, state: 'ok', mode: 3, sats: 9, hdop: 0.9, checksumErrors: 0 });
    expect(s.gps!.lat).toBeCloseTo(52.37, 2);
    expect(s.gps!.lastFixAgeMs).toBeLessThan(1500);
    expect(s.clock.clock).toBe('system');
    expect(Math.abs(s.clock.wallMinusGpsMs!)).toBeLessThan(1000);
    expect(s.fusion!.framesIn).toBeGreaterThan(5);
    expect(s.fusion!.fixesIn).toBeGreaterThan(5);
    expect(s.outbox).toMatchObject({ depth: 0, maxBytes: 2048 * 1024 * 1024 });
    expect(s.uplink).toMatchObject({ state: 'online', hubUrl: hub.url, inFlight: 0, authFailures: 0 });
    expect(s.sensors).toEqual({ sensors: { camera: 'ok', gps: 'ok', detector: 'ok' }, faults: [] });
    expect(await client.json('GET', '/health')).toEqual({ ok: true, reasons: [], warnings: [] });
  });

  it('the retained MQTT status carries the detector p95 and frames a second, as /status measures them', async () => {
    const measured = (s: Status) => typeof s.detector?.p95Ms === 'number' && typeof s.detector.fps === 'number' && s.detector.fps > 0;
    await waitFor('a status with the detector measured', () => statuses.some(measured), 10_000);
    const published = statuses.findLast(measured)!;
    expect(StatusSchema.parse(published)).toEqual(published);
    expect(published.detector!.p95Ms).toBeGreaterThan(0);
    expect(published.detector!.fps).toBeLessThan(8);
    // The same figures as `roadwatch status`, read a little later (the window moves on).
    const s = await client.json<AgentStatus>('GET', '/status');
    expect(s.detector!.latency!.p95Ms).toBeGreaterThan(0);
    expect(Math.abs(s.detector!.fps! - published.detector!.fps!)).toBeLessThan(3);
  });

  it('GET /metrics: frames, drops, inference latency, queue depth and the uplink’s metrics in one registry', async () => {
    const text = (await client.request('GET', '/metrics')).body.toString();
    for (const name of ['roadwatch_camera_frames_total', 'roadwatch_camera_frames_dropped_total', 'roadwatch_camera_fps', 'roadwatch_detector_frames_total', 'roadwatch_events_emitted_total', 'roadwatch_gps_sentences_total', 'roadwatch_outbox_depth_events 0']) {
      expect(text).toContain(name);
    }
    expect(Number(/^roadwatch_camera_frames_total (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(5);
    expect(Number(/^roadwatch_inference_duration_seconds_count (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(2);
    expect(text).toContain('roadwatch_uplink_state{state="online"} 1');
    expect(text).toContain('roadwatch_sensor_state{sensor="camera",state="ok"} 1');
  });

  it('GET /camera/snapshot: the newest frame as a JPEG', async () => {
    const res = await client.request('GET', '/camera/snapshot');
    expect(res.status).toBe(200);
    expect(Number(res.headers['x-frame-age-ms'])).toBeLessThan(2000);
    expect(await sharp(res.body).metadata()).toMatchObject({ format: 'jpeg', width: 160, height: 90 });
  });
});

describe('the CLI against the running service', () => {
  it('roadwatch status --json and the table', async () => {
    const json = fakeIo(env());
    expect(await runCli(['status', '--json'], json)).toBe(0);
    expect(JSON.parse(json.out())).toMatchObject({ v: 1, health: { ok: true }, camera: { state: 'ok' }, gps: { state: 'ok' } });

    const human = fakeIo(env());
    expect(await runCli(['status'], human)).toBe(0);
    const out = human.out();
    expect(out).toMatch(/^roadwatch \d+\.\d+\.\d+ · veh-test · up \d+s · pid \d+ · health ok\n/);
    expect(out).toMatch(/^camera +ok +command:sh — \d+\.\d fps \(last \d+ s; 5 configured\), 160×90, \d+ frames, \d+ dropped, 0 decoder errors, 0 restarts$/m);
    expect(out).toMatch(/^detector +ok +road-damage-tiny@1\S* on cpu ×1 — p50 \d+ ms, p95 \d+ ms/m);
    expect(out).toMatch(/^gps +ok +serial:\S+ — 3D 52\.\d{7}, 4\.8900000, 9 sats, HDOP 0\.9, last fix \d\.\d s ago/m);
    expect(out).toMatch(/^clock +system +system clock agrees with GPS/m);
    expect(out).toMatch(/^outbox +0 events, 0 B of 2\.0 GiB, nothing unsynced/m);
    expect(out).toMatch(/^uplink +online +mqtt:\/\/127\.0\.0\.1:\d+ — 0 in flight/m);
    expect(out).toMatch(/^problems +none$/m);
    expect(human.err()).toBe('');
  });

  it('roadwatch status --watch refreshes every second until Ctrl-C', async () => {
    const io = fakeIo(env());
    const running = runCli(['status', '--watch', '--json'], io);
    setTimeout(() => io.signals.emit('SIGINT'), 1500);
    expect(await running).toBe(0);
    const lines = io.out().trim().split('\n');
    expect(lines.length).toBe(2);
    const [a, b] = lines.map((l) => JSON.parse(l) as AgentStatus);
    expect(Date.parse(b!.ts) - Date.parse(a!.ts)).toBeGreaterThanOrEqual(900);
  });

  it('roadwatch gps --watch: live fixes and raw sentences from the service, which holds the port', async () => {
    const json = fakeIo(env());
    expect(await runCli(['gps', '--watch', '--seconds', '1.2', '--json'], json)).toBe(0);
    const lines = json.out().trim().split('\n').map((l) => JSON.parse(l) as { type: string; line?: string; fix?: { mode: number } });
    expect(lines[0]).toMatchObject({ type: 'hello', gps: `serial:${pty.device}`, state: 'ok' });
    expect(lines.filter((l) => l.type === 'fix').length).toBeGreaterThanOrEqual(3);
    expect(lines.find((l) => l.type === 'fix')?.fix?.mode).toBe(3);
    expect(lines.filter((l) => l.type === 'sentence').map((l) => l.line!.slice(0, 6))).toEqual(expect.arrayContaining(['$GNGGA', '$GNRMC', '$GNGSA', '$GNVTG']));

    const human = fakeIo(env());
    expect(await runCli(['gps', '--watch', '--seconds', '0.8'], human)).toBe(0);
    expect(human.out()).toMatch(/^time \(UTC\) +fix +lat/m);
    expect(human.out()).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z +3D +52\.\d{7} +4\.8900000/m);
    expect(human.out()).toMatch(/^ {2}\$GNGGA,/m);
    expect(human.err()).toContain(`watching serial:${pty.device} in the running service`);
  });

  it('roadwatch camera --snapshot takes the service’s newest frame instead of opening the busy camera', async () => {
    const shot = join(dir, 'view.jpg');
    const io = fakeIo(env());
    expect(await runCli(['camera', '--snapshot', shot, '--json'], io)).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({ camera: 'command:sh', outcome: 'service', state: 'ok', width: 160, height: 90, snapshot: shot });
    expect(await sharp(readFileSync(shot)).metadata()).toMatchObject({ format: 'jpeg', width: 160, height: 90 });
  });

  it('roadwatch doctor reads the camera, GPS, clock and hub link from the service', async () => {
    // The service's own settings (as in its environment file); the camera section is not needed: the service has it.
    const io = fakeIo({ ...env(), ROADWATCH_DEVICE_ID: 'veh-test', ROADWATCH_DEVICE_SECRET: 'secret-for-tests', ROADWATCH_HUB_URL: hub.url });
    const code = await runCli(['doctor', '--json', '--only', 'camera,gps,clock,hub', '--gps-seconds', '1'], io);
    const report = JSON.parse(io.out()) as DoctorReport;
    const by = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    expect(by.service).toMatchObject({ status: 'pass', data: { running: true } });
    expect(by.camera).toMatchObject({ status: 'pass', data: { fromService: true, width: 160, height: 90 } });
    expect(by.gps).toMatchObject({ status: 'pass', data: { fromService: true, mode: 3, sats: 9 } });
    expect((by.gps!.data as { sentences: number }).sentences).toBeGreaterThan(0);
    expect(by.clock).toMatchObject({ status: 'pass' });
    expect(by['hub.mqtt']).toMatchObject({ status: 'pass', detail: expect.stringContaining('the service is connected') });
    expect(by['hub.roundtrip']).toMatchObject({ status: 'pass' });
    expect(by['hub.tls']).toMatchObject({ status: 'skip' });
    expect(agent.uplink.snapshot().connects).toBe(1); // the doctor did not take the device's session over
    expect(report.summary).toEqual({ pass: 9, warn: 0, fail: 0, skip: 1 });
    expect(code).toBe(0);
  });

  it('roadwatch sync --now: sends at once; says when acks are still awaited', async () => {
    hub.mode = 'hold';
    agent.outbox.append(sampleEvents(40));
    agent.uplink.notify();
    await waitFor('a batch in flight', () => agent.uplink.snapshot().inFlight > 0);
    const waiting = fakeIo(env());
    expect(await runCli(['sync', '--now', '--wait', '0.3', '--json'], waiting)).toBe(1);
    expect(JSON.parse(waiting.out())).toMatchObject({ action: 'awaiting-acks', state: 'online', done: false, queueDepth: 40 });

    hub.mode = 'ack';
    hub.releaseAcks();
    const io = fakeIo(env());
    expect(await runCli(['sync', '--now'], io)).toBe(0);
    expect(io.out()).toMatch(/The outbox is empty/);
    expect(agent.outbox.stats().depth).toBe(0);
  });
});

describe('roadwatch queue beside the running service (it reads the outbox file; SQLite WAL lets both work)', () => {
  it('stats, list and export show what waits for the hub, while the service keeps sending', async () => {
    hub.mode = 'hold';
    agent.outbox.append(sampleEvents(7));
    agent.uplink.notify();
    await waitFor('a batch in flight', () => agent.uplink.snapshot().inFlight > 0);

    const stats = fakeIo(env());
    expect(await runCli(['queue', '--json'], stats)).toBe(0);
    expect(JSON.parse(stats.out())).toMatchObject({ exists: true, depth: 7 });

    const list = fakeIo(env());
    expect(await runCli(['queue', 'list', '--json'], list)).toBe(0);
    const rows = list.out().trim().split('\n').map((l) => JSON.parse(l) as { seq: number; event: { eventId: string } });
    expect(rows).toHaveLength(7);

    const file = join(dir, 'waiting.jsonl');
    const exported = fakeIo(env());
    expect(await runCli(['queue', 'export', file, '--json'], exported)).toBe(0);
    expect(JSON.parse(exported.out())).toMatchObject({ file, events: 7 });
    expect(readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { eventId: string }).eventId)).toEqual(rows.map((r) => r.event.eventId));

    // The service is unbothered: its status agrees, and once the hub acks, the queue is empty.
    expect((await client.json<AgentStatus>('GET', '/status')).outbox).toMatchObject({ depth: 7 });
    hub.mode = 'ack';
    hub.releaseAcks();
    expect(await runCli(['sync', '--now', '--wait', '10'], fakeIo(env()))).toBe(0);
    const after = fakeIo(env());
    expect(await runCli(['queue', '--json'], after)).toBe(0);
    expect(JSON.parse(after.out())).toMatchObject({ depth: 0 });
    expect(agent.outbox.stats().depth).toBe(0);
  });
});

describe('after the service stops', () => {
  it('the socket is gone and status says the service is not running', async () => {
    const socket = join(dataDir, 'control.sock');
    clearInterval(feed);
    await agent.stop();
    expect(existsSync(socket)).toBe(false);
    const io = fakeIo(env());
    expect(await runCli(['status'], io)).toBe(2);
    expect(io.err()).toBe(`roadwatch: the roadwatch service is not running (no control socket at ${socket}) — start it with systemctl start roadwatch-agent\n`);
    const sync = fakeIo(env());
    expect(await runCli(['sync', '--now'], sync)).toBe(2);
    expect(sync.err()).toContain('the roadwatch service is not running');
  });
});

describe('roadwatch sync --now on an uplink waiting out its backoff', () => {
  it('reconnects at once instead of after the backoff, and reports what reached the hub', async () => {
    const root = mkdtempSync(join(tmpdir(), 'roadwatch-sync-'));
    const port = await freePort();
    const service = createAgent(
      testConfig({ hubUrl: `mqtt://127.0.0.1:${port}`, dataDir: join(root, 'data'), uplink: { backoffMinMs: 60_000, backoffMaxMs: 60_000 } }),
      { logger: memoryLogger('silent').logger },
    );
    let late: FakeHub | undefined;
    try {
      service.outbox.append(sampleEvents(25));
      await service.start();
      await waitFor('the uplink in backoff', () => service.uplink.uplinkState === 'backoff');
      late = await FakeHub.start({ port });
      const io = fakeIo({ ROADWATCH_DATA: join(root, 'data') });
      expect(await runCli(['sync', '--now', '--json', '--wait', '10'], io)).toBe(0);
      const report = JSON.parse(io.out()) as SyncReport;
      expect(report).toMatchObject({ action: 'reconnecting', state: 'online', queueDepthBefore: 25, queueDepth: 0, eventsSettled: 25, done: true });
      expect(late.storedCount).toBe(25);
    } finally {
      await service.stop();
      await late?.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
