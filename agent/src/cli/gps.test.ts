import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixJson } from '../gps/fix.js';
import { corpusDir, parseLog } from '../gps/testing/gpsd-chk.js';
import { sampleDrive } from '../gps/testing/nmea-samples.js';
import { PtyPair } from '../gps/testing/pty.js';
import { runCli } from './program.js';
import { fakeIo } from './testing/fake-io.js';


let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'roadwatch-cli-gps-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('roadwatch gps --nmea', () => {
  const log = join(corpusDir(), 'ublox-zed-f9p-nmea.log');

  it('--json prints one object per fix with the documented fields, and a summary on stderr', async () => {
    const io = fakeIo();
    expect(await runCli(['gps', '--nmea', log, '--json'], io)).toBe(0);
    const lines = io.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual(parseLog(log).fixes.map(fixJson));
    expect(Object.keys(lines[0] ?? {})).toEqual(['time', 'lat', 'lon', 'altM', 'mode', 'sats', 'hdop', 'speedKmh', 'courseDeg']);
    expect(io.err()).toBe(`${log}: 1015 sentences, 0 checksum errors, 0 bad lines, 58 of other types, 29 fixes (29 with a position)\n`);
  });

  it('prints a readable table without --json, and counts bad checksums', async () => {
    const io = fakeIo();
    const firefly = join(corpusDir(), 'firefly-II.log');
    expect(await runCli(['gps', '--nmea', firefly], io)).toBe(0);
    const [header, first] = io.out().split('\n');
    expect(header).toMatch(/^time \(UTC\)\s+fix\s+lat\s+lon\s+alt m\s+sats\s+hdop\s+km\/h\s+course$/);
    expect(first).toMatch(/^2010-07-08T00:59:47\.000Z\s+2D\s+37\.\d{7}\s+-121\.\d{7}\s+—/);
    expect(io.err()).toContain('46 sentences, 23 checksum errors, 0 bad lines');
  });

  it('exits 1 when no fix had a position, 2 for a missing file or two sources at once', async () => {
    expect(await runCli(['gps', '--nmea', join(corpusDir(), 'ublox-lea-5q.log')], fakeIo())).toBe(1);
    const io = fakeIo();
    expect(await runCli(['gps', '--nmea', join(dir, 'none.nmea')], io)).toBe(2);
    expect(io.err()).toBe(`roadwatch: NMEA log ${join(dir, 'none.nmea')} not found — check the path\n`);
    const both = fakeIo();
    expect(await runCli(['gps', '--nmea', log, '--port', '/dev/ttyUSB0'], both)).toBe(2);
    expect(both.err()).toContain('choose one of --nmea, --port and --gpsd');
  });
});

describe('roadwatch gps --port (live, on a pty)', () => {
  it('prints the fixes of a receiver for --seconds, without device credentials', async () => {
    const pty = new PtyPair(join(dir, 'ttyGPS'), join(dir, 'receiver'));
    await pty.plug();
    let t = Date.parse('2026-11-22T08:00:00.000Z');
    const feed = setInterval(() => {
      pty.write(sampleDrive(new Date(t), 1));
      t += 1000;
    }, 50);
    try {
      const io = fakeIo();
      expect(await runCli(['gps', '--port', pty.device, '--baud', '38400', '--seconds', '0.6', '--json'], io)).toBe(0);
      const fixes = io.out().trim().split('\n').map((l) => JSON.parse(l) as { time: string; mode: number });
      expect(fixes.length).toBeGreaterThanOrEqual(3);
      expect(fixes[0]).toMatchObject({ time: '2026-11-22T08:00:00.000Z', mode: 3 });
      expect(io.err()).toMatch(new RegExp(`serial:${pty.device}: \\d+ sentences, 0 checksum errors, 0 bad lines, \\d+ fixes`));
    } finally {
      clearInterval(feed);
      await pty.unplug();
    }
  });

  it('stops on Ctrl-C', async () => {
    const pty = new PtyPair(join(dir, 'ttyGPS'), join(dir, 'receiver'));
    await pty.plug();
    try {
      const io = fakeIo();
      const running = runCli(['gps', '--port', pty.device], io);
      setTimeout(() => io.signals.emit('SIGINT'), 200);
      expect(await running).toBe(1); // no fix in 200 ms of silence
      expect(io.err()).toContain(`reading serial:${pty.device} — Ctrl-C to stop`);
    } finally {
      await pty.unplug();
    }
  });

  it('a missing port: says what to check and exits 2 (the port from the environment)', async () => {
    const io = fakeIo({ ROADWATCH_GPS_PORT: join(dir, 'ttyUSB7') });
    expect(await runCli(['gps'], io)).toBe(2);
    expect(io.err()).toBe(`gps: GPS port ${join(dir, 'ttyUSB7')} not found — is the receiver plugged in? check gps.port (ls /dev/serial/by-id/ lists what is there)\n`);
  });
});
