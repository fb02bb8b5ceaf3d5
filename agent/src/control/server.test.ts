import { statSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@roadwatch/shared';
import type { Frame } from '../camera/frame-source.js';
import type { Fix } from '../gps/fix.js';
import type { GpsSource, GpsStatus } from '../gps/gps-source.js';
import { Listeners } from '../util/listeners.js';
import { freePort } from '../camera/testing/fixtures.js';
import { memoryLogger, waitFor } from '../uplink/testing/harness.js';
import type { ControlApi, SyncReport } from './api.js';
import { ControlClient, ServiceNotRunning } from './client.js';
import type { ControlEndpoint } from './endpoint.js';
import { ControlInUseError, ControlServer } from './server.js';
import type { AgentStatus, HealthReport } from './status.js';

let dir: string;
const servers: ControlServer[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'roadwatch-control-'));
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

const GPS_STATUS: GpsStatus = { state: 'ok', message: 'GPS port /dev/ttyX: 3D fix', lastFixAt: null, lastFixAgeMs: null, lastFix: null, sentences: 0, checksumErrors: 0, badLines: 0, reopenCount: 0, lastError: null };

/** A GpsSource the test drives by hand. */
class HandGps implements GpsSource {
  readonly name = 'serial:/dev/ttyX';
  readonly fixes = new Listeners<Fix>();
  readonly statuses = new Listeners<GpsStatus>();
  readonly lines = new Listeners<string>();
  async start() {}
  async stop() {}
  status() {
    return GPS_STATUS;
  }
  onFix(l: (fix: Fix) => void) {
    return this.fixes.add(l);
  }
  onStatus(l: (s: GpsStatus) => void) {
    return this.statuses.add(l);
  }
  onSentence(l: (line: string) => void) {
    return this.lines.add(l);
  }
}

function fakeApi(overrides: Partial<ControlApi> = {}): ControlApi & { healthy: HealthReport; gpsSource: HandGps } {
  const gpsSource = new HandGps();
  const api = {
    healthy: { ok: true, reasons: [], warnings: [] } as HealthReport,
    gpsSource,
    status: () => ({ v: 1, agent: { deviceId: 'veh-test' } }) as unknown as AgentStatus,
    health: (): HealthReport => api.healthy,
    metrics: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'roadwatch_x_total 1\n' }),
    sync: async (waitMs: number): Promise<SyncReport> => ({ action: 'up-to-date', state: 'online', batchesSent: 0, eventsSettled: 0, queueDepthBefore: 0, queueDepth: 0, inFlight: 0, waitedMs: waitMs, done: true, lastError: null }),
    gps: () => gpsSource as GpsSource | null,
    lastFrame: () => ({ frame: null, reason: 'no frame yet' }) as ReturnType<ControlApi['lastFrame']>,
    ...overrides,
  };
  return api;
}

async function serve(api: ControlApi, endpoint: ControlEndpoint = { kind: 'socket', path: join(dir, 'control.sock') }): Promise<{ server: ControlServer; client: ControlClient }> {
  const server = new ControlServer({ api, endpoint, logger: memoryLogger('silent').logger });
  servers.push(server);
  await server.start();
  return { server, client: new ControlClient(endpoint) };
}

describe('ControlServer', () => {
  it('serves health, status, metrics and sync on a unix socket with mode 0660', async () => {
    const api = fakeApi();
    const { client } = await serve(api);
    expect(statSync(join(dir, 'control.sock')).mode & 0o777).toBe(0o660);

    expect(await client.json('GET', '/health')).toEqual({ ok: true, reasons: [], warnings: [] });
    api.healthy = { ok: false, reasons: ['camera: gone'], warnings: [] };
    const sick = await client.request('GET', '/health');
    expect(sick.status).toBe(503);
    expect(JSON.parse(sick.body.toString())).toMatchObject({ ok: false, reasons: ['camera: gone'] });

    expect(await client.json('GET', '/status')).toMatchObject({ v: 1, agent: { deviceId: 'veh-test' } });
    const metrics = await client.request('GET', '/metrics');
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.body.toString()).toBe('roadwatch_x_total 1\n');
    expect(await client.json('POST', '/sync?waitMs=250')).toMatchObject({ action: 'up-to-date', waitedMs: 250, done: true });

    const bad = await client.request('POST', '/sync?waitMs=soon');
    expect([bad.status, JSON.parse(bad.body.toString()).error.code]).toEqual([400, 'invalid_request']);
    expect((await client.request('GET', '/nope')).status).toBe(404);
    expect((await client.request('GET', '/sync')).status).toBe(405);
  });

  it('serves the newest frame as a JPEG, and says why when there is none', async () => {
    let frame: Frame | null = null;
    const api = fakeApi({ lastFrame: () => (frame ? { frame, ageMs: 120 } : { frame: null, reason: 'no frame yet from file:x' }) });
    const { client } = await serve(api);
    const none = await client.request('GET', '/camera/snapshot');
    expect(none.status).toBe(503);
    expect(JSON.parse(none.body.toString())).toEqual({ error: { code: 'no_frame', message: 'no frame yet from file:x' } });

    frame = { seq: 7, monoMs: 0, ptsMs: null, width: 32, height: 16, rgb: Buffer.alloc(32 * 16 * 3, 200) };
    const shot = await client.request('GET', '/camera/snapshot');
    expect(shot.status).toBe(200);
    expect(shot.headers).toMatchObject({ 'content-type': 'image/jpeg', 'x-frame-seq': '7', 'x-frame-age-ms': '120', 'x-frame-size': '32x16' });
    expect(await sharp(shot.body).metadata()).toMatchObject({ format: 'jpeg', width: 32, height: 16 });
  });

  it('streams GPS fixes, raw sentences and status changes while the client stays; stop() ends the stream', async () => {
    const api = fakeApi();
    const { server, client } = await serve(api);
    const lines: Array<Record<string, unknown>> = [];
    const abort = new AbortController();
    const streaming = client.stream('/gps/stream', (l) => lines.push(JSON.parse(l) as Record<string, unknown>), abort.signal);
    await waitFor('hello', () => lines.length === 1);
    expect(lines[0]).toEqual({ type: 'hello', gps: 'serial:/dev/ttyX', state: 'ok', message: 'GPS port /dev/ttyX: 3D fix' });
    const gps = api.gpsSource;
    gps.lines.emit('$GPGGA,080000.00,5222.21260,N,00453.71020,E,1,09,0.9,12.5,M,46.0,M,,*5A', () => {});
    gps.fixes.emit({ time: '2026-11-22T08:00:00.000Z', timeOfDay: '08:00:00.000', lat: 52.37, lon: 4.89, altM: 12.5, mode: 3, sats: 9, hdop: 0.9, speedKmh: 0, courseDeg: 0, source: 'nmea', receivedAtMono: 1 }, () => {});
    gps.statuses.emit({ ...GPS_STATUS, state: 'no-fix', message: 'fix lost' }, () => {});
    await waitFor('three more lines', () => lines.length === 4);
    expect(lines.slice(1).map((l) => l.type)).toEqual(['sentence', 'fix', 'status']);
    expect(lines[1]).toMatchObject({ line: expect.stringMatching(/^\$GPGGA,080000/) });
    expect(lines[2]).toMatchObject({ fix: { time: '2026-11-22T08:00:00.000Z', lat: 52.37, lon: 4.89, mode: 3, sats: 9, hdop: 0.9 } });
    expect(gps.fixes.size).toBe(1);

    await server.stop();
    expect(await streaming).toBe('ended');
    expect(gps.fixes.size).toBe(0);
    expect(gps.lines.size).toBe(0);
    expect(existsSync(join(dir, 'control.sock'))).toBe(false);
  });

  it('a client that leaves takes its listeners with it; no GPS is a 503', async () => {
    const api = fakeApi();
    const { client } = await serve(api);
    const abort = new AbortController();
    let got = 0;
    const streaming = client.stream('/gps/stream', () => void got++, abort.signal);
    await waitFor('hello', () => got === 1);
    abort.abort();
    expect(await streaming).toBe('aborted');
    await waitFor('listeners removed', () => api.gpsSource.fixes.size === 0 && api.gpsSource.lines.size === 0);

    const { client: other } = await serve(fakeApi({ gps: () => null }), { kind: 'socket', path: join(dir, 'other.sock') });
    await expect(other.stream('/gps/stream', () => {}, new AbortController().signal)).rejects.toThrow('the service runs no GPS receiver');
  });

  it('replaces a stale socket, refuses a live one and a file that is not a socket', async () => {
    const path = join(dir, 'control.sock');
    // A socket left by a crashed service: bound by a process that exited without removing it.
    execFileSync('python3', ['-c', 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)', path]);
    expect(statSync(path).isSocket()).toBe(true);
    const { client } = await serve(fakeApi(), { kind: 'socket', path });
    expect(await client.json('GET', '/health')).toMatchObject({ ok: true });

    const second = new ControlServer({ api: fakeApi(), endpoint: { kind: 'socket', path }, logger: memoryLogger('silent').logger });
    await expect(second.start()).rejects.toBeInstanceOf(ControlInUseError);

    const file = join(dir, 'file.sock');
    writeFileSync(file, 'not a socket');
    const third = new ControlServer({ api: fakeApi(), endpoint: { kind: 'socket', path: file }, logger: memoryLogger('silent').logger });
    await expect(third.start()).rejects.toThrow('exists and is not a socket');
    expect(existsSync(file)).toBe(true);
  });

  it('listens on 127.0.0.1:port when configured; the client says when the service is not running', async () => {
    const port = await freePort();
    const { client } = await serve(fakeApi(), { kind: 'tcp', host: '127.0.0.1', port });
    expect(await client.json('GET', '/status')).toMatchObject({ v: PROTOCOL_VERSION });

    const closed = new ControlClient({ kind: 'tcp', host: '127.0.0.1', port: await freePort() });
    await expect(closed.json('GET', '/status')).rejects.toThrow(/^the roadwatch service is not running \(nothing answers on control port 127\.0\.0\.1:\d+\) — start it with systemctl start roadwatch-agent$/);
    const missing = new ControlClient({ kind: 'socket', path: join(dir, 'none.sock') });
    await expect(missing.statusIfRunning()).resolves.toBeNull();
    await expect(missing.json('GET', '/status')).rejects.toBeInstanceOf(ServiceNotRunning);
    await expect(missing.json('GET', '/status')).rejects.toThrow(`the roadwatch service is not running (no control socket at ${join(dir, 'none.sock')}) — start it with systemctl start roadwatch-agent`);
  });
});
