import { describe, expect, it } from 'vitest';
import type { Fix } from '../../agent/src/gps/fix.js';
import { NmeaReader } from '../../agent/src/gps/nmea-reader.js';
import { nmeaCoord, writeNmea } from './nmea.js';
import { simulateDrive, type DrivePlan } from './simulate.js';

function parse(text: string): { fixes: Fix[]; reader: NmeaReader } {
  const reader = new NmeaReader();
  const fixes = [...reader.push(text), ...reader.end()];
  return { fixes, reader };
}

function expectMatches(plan: DrivePlan, fixes: Fix[]): void {
  expect(fixes).toHaveLength(plan.fixes.length);
  fixes.forEach((fix, k) => {
    const want = plan.fixes[k]!;
    expect(fix.time).toBe(new Date(want.utcMs).toISOString());
    expect(fix.mode).toBe(3);
    expect(Math.abs(fix.lat! - want.lat)).toBeLessThan(1e-6);
    expect(Math.abs(fix.lon! - want.lon)).toBeLessThan(1e-6);
    expect(Math.abs(fix.speedKmh! - want.speedMps * 3.6)).toBeLessThan(0.01);
    expect(fix.courseDeg).toBeCloseTo(plan.headingDeg, 2);
  });
}

describe('writeNmea', () => {
  it('writes GGA, GSA, RMC and VTG per epoch that the agent parses into the planned fixes', () => {
    const plan = simulateDrive({ seed: 2, lengthM: 150, width: 320, height: 180, stop: { durationS: 4, atM: 80 } });
    const text = writeNmea(plan.fixes);
    const lines = text.split('\r\n').filter(Boolean);
    expect(lines).toHaveLength(4 * plan.fixes.length);
    expect(lines.slice(0, 4).map((l) => l.slice(0, 6))).toEqual(['$GNGGA', '$GNGSA', '$GNRMC', '$GNVTG']);
    const { fixes, reader } = parse(text);
    expect(reader.stats()).toMatchObject({ checksumErrors: 0, badLines: 0, unsupported: 0, fixes: plan.fixes.length, sentences: lines.length });
    expectMatches(plan, fixes);
    expect(fixes[0]!.time).toBe('2026-11-22T08:00:00.000Z');
    // The stop shows as epochs at 0 km/h.
    expect(fixes.filter((f) => f.speedKmh === 0).length).toBeGreaterThanOrEqual(4);
  });

  it('also at 10 Hz with the GP talker, with GPS noise, and across midnight', () => {
    const plan = simulateDrive({ seed: 3, lengthM: 200, width: 320, height: 180, gpsHz: 10, gpsNoiseM: 2, startTime: '2026-11-22T23:59:55.000Z', start: { lat: -33.87, lon: -151.2 }, headingDeg: 200 });
    const text = writeNmea(plan.fixes, { talker: 'GP' });
    expect(text.startsWith('$GPGGA,235955.00,')).toBe(true);
    const { fixes } = parse(text);
    expectMatches(plan, fixes);
    expect(fixes[1]!.time).toBe('2026-11-22T23:59:55.100Z');
    expect(fixes.at(-1)!.time!.startsWith('2026-11-23T00:00:')).toBe(true);
    expect(fixes[0]!.lat).toBeLessThan(0);
    expect(fixes[0]!.lon).toBeLessThan(0);
  });

  it('formats coordinates as ddmm.mmmmm, carrying a rounded 60th minute into the degree', () => {
    expect(nmeaCoord(52.09, 'lat')).toEqual(['5205.40000', 'N']);
    expect(nmeaCoord(-5.5, 'lon')).toEqual(['00530.00000', 'W']);
    expect(nmeaCoord(4.9999999999, 'lon')).toEqual(['00500.00000', 'E']);
  });
});
