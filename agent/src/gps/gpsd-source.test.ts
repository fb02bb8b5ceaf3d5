import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Fix } from './fix.js';
import { GPSD_WATCH, GpsdSource } from './gpsd-source.js';
import { FakeGpsd, freePort, gpsdSky, gpsdTpv } from './testing/fake-gpsd.js';
import { sampleEpoch } from './testing/nmea-samples.js';
import { haveSocat, PtyPair, waitFor } from './testing/pty.js';

const silent = pino({ level: 'silent' });
let source: GpsdSource | null = null;
let gpsd: FakeGpsd | null = null;
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  await source?.stop();
  source = null;
  await gpsd?.close();
  gpsd = null;
  for (const c of cleanups.splice(0).reverse()) await c();
});

function watch(port: number, extra: Partial<ConstructorParameters<typeof GpsdSource>[0]> = {}): Fix[] {
  source = new GpsdSource({ port, logger: silent, reconnectMinMs: 20, reconnectMaxMs: 100, tickMs: 20, settleMs: 50, ...extra });
  const fixes: Fix[] = [];
  source.onFix((f) => fixes.push(f));
  return fixes;
}

describe('GpsdSource against a fake gpsd speaking gpsd 3.22 JSON', () => {
  it('sends WATCH, turns TPV + SKY into fixes, one per epoch (the last report of a time wins)', async () => {
    gpsd = new FakeGpsd();
    const fixes = watch(await gpsd.listen());
    await source!.start();
    await waitFor(() => gpsd!.watchers === 1, 'the WATCH');
    expect(gpsd.received).toEqual([GPSD_WATCH.trim()]);
    gpsd.send(gpsdSky(7, 0.9), gpsdTpv('2026-11-22T08:00:00.000Z', 52.3, 4.8, 2), gpsdTpv('2026-11-22T08:00:00.000Z', 52.37021, 4.89517, 3), '{not json', gpsdTpv('2026-11-22T08:00:01.000Z', 52.3703, 4.8952));
    await waitFor(() => fixes.length === 2, 'two fixes');
    expect(fixes[0]).toEqual({
      time: '2026-11-22T08:00:00.000Z',
      timeOfDay: '08:00:00.000',
      lat: 52.37021,
      lon: 4.89517,
      altM: 12.5,
      mode: 3,
      sats: 7,
      hdop: 0.9,
      speedKmh: 41.67,
      courseDeg: 45,
      source: 'gpsd',
      receivedAtMono: expect.any(Number),
    });
    expect(fixes[1]!.time).toBe('2026-11-22T08:00:01.000Z');
    expect(source!.status()).toMatchObject({ state: 'ok', sentences: 4, badLines: 1, checksumErrors: 0, reopenCount: 0 });
  });

  it('reconnects when gpsd drops the connection, and says so meanwhile', async () => {
    gpsd = new FakeGpsd();
    const fixes = watch(await gpsd.listen());
    await source!.start();
    await waitFor(() => gpsd!.watchers === 1, 'the WATCH');
    gpsd.dropClients();
    await waitFor(() => source!.status().reopenCount === 1 && gpsd!.watchers === 1, 'the reconnect');
    expect(source!.status().lastError).toMatch(/closed the connection — reconnecting|dropped the connection/);
    gpsd.send(gpsdTpv('2026-11-22T08:00:05.000Z', 52.37, 4.89));
    await waitFor(() => fixes.length === 1, 'a fix after the reconnect');
    expect(source!.status().state).toBe('ok');
  });

  it('gpsd not running: a fault naming gpsd, retried until it is up', async () => {
    const port = await freePort();
    const fixes = watch(port);
    await source!.start();
    expect(source!.status()).toMatchObject({ state: 'fault', message: `gpsd at 127.0.0.1:${port} refused the connection — is gpsd running? (systemctl status gpsd), or set gps.source to "serial"` });
    gpsd = new FakeGpsd();
    await gpsd.listen(port);
    await waitFor(() => gpsd!.watchers === 1, 'the connection once gpsd is up', 5000);
    gpsd.send(gpsdTpv('2026-11-22T08:00:00.000Z', 52.37, 4.89));
    await waitFor(() => fixes.length === 1, 'a fix');
  });

  it('gpsd without a device: no-data, and says what to give gpsd', async () => {
    gpsd = new FakeGpsd();
    gpsd.devices = [];
    watch(await gpsd.listen(), { noDataAfterMs: 100 });
    await source!.start();
    await waitFor(() => /no GPS device — give gpsd the receiver's port/.test(source!.status().message), 'the hint');
    expect(source!.status().state).toBe('no-data');
  });
});

const GPSD_BIN = ['/usr/sbin/gpsd', '/usr/bin/gpsd', '/usr/local/sbin/gpsd'].find((p) => existsSync(p));

describe.skipIf(!GPSD_BIN || !haveSocat())('GpsdSource against the real gpsd (apt: gpsd) reading NMEA from a pty', () => {
  it('gets the fixes gpsd makes of the NMEA the receiver end writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roadwatch-gpsd-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const pty = new PtyPair(join(dir, 'ttyGPS'), join(dir, 'receiver'));
    await pty.plug();
    cleanups.push(() => pty.unplug());
    const port = await freePort();
    // -N foreground, -n poll the device without clients, -b read-only (never reconfigure the receiver)
    const daemon: ChildProcess = spawn(GPSD_BIN as string, ['-N', '-n', '-b', '-S', String(port), '-F', join(dir, 'gpsd.sock'), pty.device], { stdio: 'ignore' });
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          if (daemon.exitCode !== null) return resolve();
          daemon.once('exit', () => resolve());
          daemon.kill('SIGTERM');
        }),
    );
    const fixes = watch(port, { settleMs: 100 });
    await source!.start(); // gpsd may not listen yet: the source retries by itself
    let t = Date.parse('2026-11-22T08:00:00.000Z');
    const feed = setInterval(() => {
      pty.write(sampleEpoch({ at: new Date(t), lat: 52.37021, lon: 4.89517, courseDeg: 45, speedKn: 22.5 }));
      t += 1000;
    }, 100);
    try {
      await waitFor(() => fixes.filter((f) => f.mode === 3).length >= 3, 'fixes through gpsd', 10_000);
    } finally {
      clearInterval(feed);
    }
    const fix = fixes.filter((f) => f.mode === 3).at(-1)!;
    expect(fix.time).toMatch(/^2026-11-22T08:00:\d\d\.000Z$/);
    expect(fix.lat).toBeCloseTo(52.37021, 6);
    expect(fix.lon).toBeCloseTo(4.89517, 6);
    expect(fix).toMatchObject({ altM: 12.5, courseDeg: 45, source: 'gpsd' });
    expect(fix.speedKmh).toBeCloseTo(41.67, 1);
    expect(source!.status().state).toBe('ok');
  });
});
