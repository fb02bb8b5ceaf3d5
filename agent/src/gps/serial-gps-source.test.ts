import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Fix } from './fix.js';
import type { GpsStatus } from './gps-source.js';
import { withChecksum } from './nmea-sentence.js';
import { explainSerialError } from './serial-errors.js';
import { SerialGpsSource } from './serial-gps-source.js';
import { sampleDrive } from './testing/nmea-samples.js';
import { haveSocat, PtyPair, waitFor } from './testing/pty.js';

/**
 * SerialGpsSource on a real pseudo-terminal pair (socat) through the real serialport binding: the
 * source opens one end like /dev/ttyUSB0, the test writes NMEA into the other end.
 */

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const silent = pino({ level: 'silent' });
let dir: string;
let pty: PtyPair;
let source: SerialGpsSource | null = null;

beforeAll(() => {
  if (!haveSocat()) throw new Error('socat is missing — install it (apt-get install socat); .ci/run does');
});

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roadwatch-gps-'));
  pty = new PtyPair(join(dir, 'ttyGPS'), join(dir, 'receiver'));
  await pty.plug();
});

afterEach(async () => {
  await source?.stop();
  source = null;
  await pty.unplug();
  rmSync(dir, { recursive: true, force: true });
});

function open(extra: Partial<ConstructorParameters<typeof SerialGpsSource>[0]> = {}): { fixes: Fix[]; statuses: GpsStatus[] } {
  source = new SerialGpsSource({ port: pty.device, baud: 9600, logger: silent, reopenMinMs: 20, reopenMaxMs: 100, tickMs: 20, ...extra });
  const fixes: Fix[] = [];
  const statuses: GpsStatus[] = [];
  source.onFix((f) => fixes.push(f));
  source.onStatus((s) => statuses.push(s));
  return { fixes, statuses };
}

const T0 = new Date('2026-11-22T08:00:00.000Z');

describe('SerialGpsSource on a pty', () => {
  it('delivers fixes from NMEA written into the other end, with the epoch arrival time', async () => {
    const { fixes } = open();
    await source!.start();
    expect(source!.status().state).toBe('no-data');
    pty.write(sampleDrive(T0, 3));
    await waitFor(() => fixes.length >= 2, 'two fixes');
    expect(fixes[0]).toMatchObject({ time: '2026-11-22T08:00:00.000Z', mode: 3, lat: 52.37021, lon: 4.89517, altM: 12.5, sats: 9, hdop: 0.9, courseDeg: 45 });
    expect(fixes[0]!.speedKmh).toBeCloseTo(41.67, 2);
    expect(typeof fixes[0]!.receivedAtMono).toBe('number');
    expect(source!.status()).toMatchObject({ state: 'ok', checksumErrors: 0, badLines: 0, reopenCount: 0, lastError: null });
  });

  it('counts garbage bytes and bad checksums, and keeps going', async () => {
    const { fixes } = open();
    await source!.start();
    const good = sampleDrive(T0, 2);
    const badSum = withChecksum('GNGGA,080005.00,5222.21260,N,00453.71020,E,1,09,0.9,12.5,M,46.0,M,,').replace(/\*..$/, '*00');
    pty.write(Buffer.concat([Buffer.from([0x00, 0xff, 0x13, 0x80, 0x0d, 0x0a]), Buffer.from(`${badSum}\r\nhello world\r\n$GPGGA,0800\r\n${good}`, 'latin1')]));
    await waitFor(() => fixes.length >= 1 && source!.status().sentences >= 8, 'the good sentences');
    const status = source!.status();
    expect(status.checksumErrors).toBe(2); // bad sum + truncated $GPGGA,0800
    expect(status.badLines).toBe(2); // the binary junk line and "hello world"
    expect(fixes.every((f) => f.time !== '2026-11-22T08:00:05.000Z')).toBe(true);
    expect(status.state).toBe('ok');
  });

  it('reports the unplug as a fault and reopens the same path when the receiver is back', async () => {
    const { fixes, statuses } = open();
    await source!.start();
    pty.write(sampleDrive(T0, 2));
    await waitFor(() => fixes.length >= 1, 'a fix before the unplug');

    pty.write('$GNGGA,0800'); // half a sentence, then the cable is pulled
    await pty.unplug();
    await waitFor(() => source!.status().state === 'fault', 'the fault', 5000, () => ({ status: source!.status(), statuses }));
    expect(statuses.map((s) => s.message).join('\n')).toMatch(/disconnected \(receiver unplugged\?\) — reopening when it is back/);
    await waitFor(() => /not found — is the receiver plugged in\? check gps\.port/.test(source!.status().message), 'the not-found retries');

    await pty.plug();
    await waitFor(() => source!.status().reopenCount === 1, 'the reopen', 5000);
    const before = fixes.length;
    pty.write(sampleDrive(new Date(T0.getTime() + 60_000), 3));
    await waitFor(() => fixes.length >= before + 2, 'fixes after the reopen');
    const after = fixes.slice(before);
    expect(after[0]!.time).toBe('2026-11-22T08:01:00.000Z');
    expect(source!.status()).toMatchObject({ state: 'ok', reopenCount: 1 });
    expect(source!.status().lastError).toMatch(/not found|disconnected/);
    expect(source!.status().checksumErrors).toBe(0); // the half sentence was not glued to the next one
  });

  it('says no-fix with a clear message when the receiver never gets a fix', async () => {
    open({ noFixAfterMs: 200 });
    await source!.start();
    const feed = setInterval(() => pty.write(sampleDrive(new Date(), 1, { fix: false })), 50);
    try {
      await waitFor(() => source!.status().state === 'no-fix', 'no-fix');
      expect(source!.status().message).toMatch(/waiting for a first fix/);
      await waitFor(() => /no fix for \d+ s — .*clear view of the sky/.test(source!.status().message), 'the plain no-fix message');
    } finally {
      clearInterval(feed);
    }
  });

  it('says the baud rate may be wrong when only garbage arrives', async () => {
    open({ noDataAfterMs: 150 });
    await source!.start();
    const feed = setInterval(() => pty.write(Buffer.from([0xf0, 0x0f, 0xaa, 0x55, 0x0a, 0x24, 0x81, 0x0a])), 20);
    try {
      await waitFor(() => /bytes arrive but no valid NMEA sentence .* wrong baud rate\? gps\.baud is 9600/.test(source!.status().message), 'the baud hint');
      expect(source!.status().state).toBe('no-data');
    } finally {
      clearInterval(feed);
    }
  });
});

describe('SerialGpsSource opening what is not a usable port', () => {
  it('a missing device: names gps.port', async () => {
    source = new SerialGpsSource({ port: join(dir, 'ttyUSB9'), baud: 9600, logger: silent, reopenMinMs: 10_000, reopenMaxMs: 10_000 });
    await source.start();
    expect(source.status()).toMatchObject({ state: 'fault', message: expect.stringContaining(`GPS port ${join(dir, 'ttyUSB9')} not found — is the receiver plugged in? check gps.port`) });
  });

  it('a regular file: not a serial device', async () => {
    const file = join(dir, 'not-a-tty');
    writeFileSync(file, '');
    source = new SerialGpsSource({ port: file, baud: 9600, logger: silent, reopenMinMs: 10_000, reopenMaxMs: 10_000 });
    await source.start();
    expect(source.status()).toMatchObject({ state: 'fault', message: `GPS port ${file} is not a serial device — check gps.port` });
  });

  it('a pty the service user may not open: names the dialout group (real open by an unprivileged uid)', () => {
    // Tests usually run as root, which may open anything: the open is made by a child process as
    // uid 65534 (nobody) when we are root, else by this user after taking the permission away.
    chmodSync(dir, 0o755); // so the denial comes from the device, not from the test's folder
    chmodSync(realpathSync(pty.device), 0o600);
    const asRoot = process.getuid?.() === 0;
    if (!asRoot) chmodSync(realpathSync(pty.device), 0o000);
    const as = asRoot ? { uid: 65534, gid: 65534 } : {};
    const run = (args: string[]) => spawnSync(process.execPath, args, { cwd: REPO, encoding: 'utf8', timeout: 20_000, ...as });

    if (run(['-e', `require('fs').accessSync(${JSON.stringify(join(REPO, 'node_modules/serialport/package.json'))})`]).status === 0) {
      // The whole path: SerialGpsSource → serialport's native open → our message.
      const child = run(['--import', 'tsx', join(REPO, 'agent/src/gps/testing/open-port-child.ts'), pty.device]);
      expect(child.stderr).toBe('');
      const result = JSON.parse(child.stdout) as { uid: number; state: string; message: string };
      expect(result.uid === 0).toBe(false);
      expect(result).toMatchObject({ state: 'fault', message: expect.stringContaining(`GPS port ${pty.device}: permission denied — add the service user to group dialout`) });
    } else {
      // The checkout is not readable by uid 65534 (e.g. under /root on CI): the child can only make
      // the open itself; its real error goes through the same explanation.
      const child = run(['-e', `try { require('fs').openSync(${JSON.stringify(pty.device)}, 'r+') } catch (e) { process.stdout.write(JSON.stringify({ code: e.code, message: e.message })) }`]);
      const error = JSON.parse(child.stdout) as { code: string; message: string };
      expect(error.code).toBe('EACCES');
      expect(explainSerialError(pty.device, Object.assign(new Error(error.message), { code: error.code }))).toContain(`GPS port ${pty.device}: permission denied — add the service user to group dialout`);
    }
  });

  it('explains what serialport reports, by code or by its text', () => {
    expect(explainSerialError('/dev/ttyUSB0', new Error('Error: Permission denied, cannot open /dev/ttyUSB0'))).toBe(
      'GPS port /dev/ttyUSB0: permission denied — add the service user to group dialout (sudo usermod -aG dialout <user>, then restart the service)',
    );
    expect(explainSerialError('/dev/ttyUSB0', Object.assign(new Error('open failed'), { code: 'ENOENT' }))).toMatch(/^GPS port \/dev\/ttyUSB0 not found — is the receiver plugged in\? check gps\.port/);
    expect(explainSerialError('/dev/ttyAMA0', new Error('Error: Resource temporarily unavailable Cannot lock port'))).toMatch(/in use by another program \(often gpsd or ModemManager\)/);
    expect(explainSerialError('/dev/ttyUSB0', Object.assign(new Error('bad file descriptor'), { disconnected: true }))).toBe('GPS port /dev/ttyUSB0 disconnected (receiver unplugged?) — reopening when it is back');
    expect(explainSerialError('/dev/ttyUSB0', new Error('Error: something odd'))).toBe('GPS port /dev/ttyUSB0: something odd');
  });
});
