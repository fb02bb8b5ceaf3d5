import type { ClockSource } from '@roadwatch/shared';
import { describe, expect, it } from 'vitest';
import { BUILD_FLOOR_MS } from './build-floor.js';
import { ClockPolicy } from './clock-policy.js';

const T = (iso: string) => Date.parse(iso);
const TRUE_START = T('2026-11-22T08:00:00.000Z');
const MIN = 60_000;
const HOUR = 60 * MIN;

/**
 * One step of a scenario: the monotonic clock reads `mono` (ms since boot), the wall clock reads
 * `wall`; optionally a GPS fix arrives (`gps`: the UTC time it names, received at `mono`); then
 * an event that happens now is stamped and must come out as `clock` at `expect` (ISO), or within
 * `tolerance` ms of it.
 */
interface Step {
  mono: number;
  wall: number;
  gps?: { time: number };
  ntp?: boolean | null;
  clock: ClockSource;
  expect?: number;
  tolerance?: number;
}

function run(steps: Step[]) {
  let mono = 0;
  let wall = 0;
  let ntp: boolean | null = null;
  const policy = new ClockPolicy({ wall: () => wall, mono: () => mono, floorMs: BUILD_FLOOR_MS, ntpSynced: () => ntp });
  return steps.map((s, i) => {
    mono = s.mono;
    wall = s.wall;
    if (s.ntp !== undefined) ntp = s.ntp;
    if (s.gps) policy.observeGps(s.gps.time, s.mono);
    const stamp = policy.now();
    const where = `step ${i}: ${policy.state().reason}`;
    expect(stamp.clock, where).toBe(s.clock);
    if (s.expect !== undefined) expect(Math.abs(stamp.ms - s.expect), `${where}: ${stamp.iso}`).toBeLessThanOrEqual(s.tolerance ?? 0);
    return stamp;
  });
}

describe('ClockPolicy', () => {
  it.each<[string, Step[]]>([
    [
      '1970 boot: unsynced until the first GPS fix, then GPS time extrapolated on the monotonic clock',
      [
        { mono: 5_000, wall: 5_000, clock: 'unsynced', expect: 5_000 },
        { mono: 20_000, wall: 20_000, gps: { time: TRUE_START }, clock: 'gps', expect: TRUE_START },
        { mono: 20_400, wall: 20_400, clock: 'gps', expect: TRUE_START + 400 },
        { mono: 21_000, wall: 21_000, gps: { time: TRUE_START + 1000 }, clock: 'gps', expect: TRUE_START + 1000 },
      ],
    ],
    [
      'stale time restored by fake-hwclock (3 days old): system until GPS says otherwise, then GPS',
      [
        { mono: 5_000, wall: TRUE_START - 3 * 24 * HOUR, clock: 'system' },
        { mono: 6_000, wall: TRUE_START - 3 * 24 * HOUR + 1_000, ntp: false, clock: 'unsynced' },
        { mono: 7_000, wall: TRUE_START - 3 * 24 * HOUR + 2_000, gps: { time: TRUE_START }, clock: 'gps', expect: TRUE_START },
        { mono: 9_000, wall: TRUE_START - 3 * 24 * HOUR + 4_000, clock: 'gps', expect: TRUE_START + 2_000 },
      ],
    ],
    [
      'good NTP time: the system clock, confirmed by GPS',
      [
        { mono: 5_000, wall: TRUE_START, ntp: true, clock: 'system', expect: TRUE_START },
        { mono: 6_000, wall: TRUE_START + 1_000, gps: { time: TRUE_START + 700 }, clock: 'system', expect: TRUE_START + 1_000 },
        { mono: 7_000, wall: TRUE_START + 2_000, clock: 'system', expect: TRUE_START + 2_000 },
      ],
    ],
    [
      'GPS lost later: GPS time carries on through the outage, and gives up after the hold time',
      [
        { mono: 10_000, wall: 10_000, gps: { time: TRUE_START }, clock: 'gps', expect: TRUE_START },
        { mono: 10_000 + 10 * MIN, wall: 10_000 + 10 * MIN, clock: 'gps', expect: TRUE_START + 10 * MIN },
        { mono: 10_000 + 5 * HOUR, wall: 10_000 + 5 * HOUR, clock: 'gps', expect: TRUE_START + 5 * HOUR },
        { mono: 10_000 + 7 * HOUR, wall: 10_000 + 7 * HOUR, clock: 'unsynced', expect: 10_000 + 7 * HOUR },
      ],
    ],
    [
      'system clock jumping back and forth: GPS (monotonic-based) while it is off, the system clock when it agrees',
      [
        { mono: 10_000, wall: TRUE_START, gps: { time: TRUE_START }, clock: 'system', expect: TRUE_START },
        { mono: 11_000, wall: TRUE_START + 1_000 + HOUR, clock: 'gps', expect: TRUE_START + 1_000 },
        { mono: 12_000, wall: TRUE_START + 2_000 - 2 * HOUR, clock: 'gps', expect: TRUE_START + 2_000 },
        { mono: 13_000, wall: TRUE_START + 3_000, clock: 'system', expect: TRUE_START + 3_000 },
        { mono: 14_000, wall: TRUE_START + 4_000 + 30_000, gps: { time: TRUE_START + 4_000 }, clock: 'gps', expect: TRUE_START + 4_000 },
      ],
    ],
    [
      'no flapping at the skew limit: off by > 2 s distrusts, back within 1 s trusts again',
      [
        { mono: 10_000, wall: TRUE_START + 1_900, gps: { time: TRUE_START }, clock: 'system' },
        { mono: 11_000, wall: TRUE_START + 1_000 + 2_100, clock: 'gps', expect: TRUE_START + 1_000 },
        { mono: 12_000, wall: TRUE_START + 2_000 + 1_500, clock: 'gps', expect: TRUE_START + 2_000 },
        { mono: 13_000, wall: TRUE_START + 3_000 + 800, clock: 'system', expect: TRUE_START + 3_800 },
      ],
    ],
    [
      'GPS week-rollover dates (19.6 years early) are ignored',
      [{ mono: 10_000, wall: 10_000, gps: { time: T('2007-04-22T08:00:00Z') }, clock: 'unsynced', expect: 10_000 }],
    ],
  ])('%s', (_name, steps) => {
    run(steps);
  });

  it('keeps event time monotonic across wall-clock jumps while GPS is the reference', () => {
    let mono = 10_000;
    let wall = 0; // 1970
    const policy = new ClockPolicy({ wall: () => wall, mono: () => mono, floorMs: BUILD_FLOOR_MS });
    policy.observeGps(TRUE_START, mono);
    const stamps: number[] = [];
    for (let i = 1; i <= 50; i++) {
      mono += 100;
      wall = i % 2 === 0 ? wall + 3_600_000 : wall - 3_500_000; // a wild RTC
      if (i % 10 === 0) policy.observeGps(TRUE_START + (mono - 10_000), mono + 120); // 120 ms of output latency
      stamps.push(policy.now().ms);
    }
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]).toBeGreaterThan(stamps[i - 1] as number);
    expect(stamps.at(-1)).toBe(TRUE_START + 5_000);
  });

  it('takes the observation with the least output latency', () => {
    let mono = 0;
    const policy = new ClockPolicy({ wall: () => 0, mono: () => mono, floorMs: BUILD_FLOOR_MS });
    for (const [i, latency] of [300, 80, 450, 120].entries()) {
      const truth = TRUE_START + i * 1000;
      mono = 10_000 + i * 1000 + latency;
      policy.observeGps(truth, mono); // stamped when the first byte arrived
    }
    mono = 20_000;
    expect(policy.now().ms).toBe(TRUE_START + 10_000 - 80);
  });

  it('gives GPS time for a monotonic instant (the base to match frames to fixes), also while the system clock is used', () => {
    let mono = 50_000;
    const policy = new ClockPolicy({ wall: () => TRUE_START + 900, mono: () => mono, floorMs: BUILD_FLOOR_MS });
    expect(policy.gpsTimeAt(49_000)).toBeNull();
    policy.observeGps(TRUE_START, 50_000);
    expect(policy.now().clock).toBe('system'); // 900 ms off: fine for a timestamp
    expect(policy.gpsTimeAt(49_000)).toBe(TRUE_START - 1_000);
    mono += 7 * HOUR;
    expect(policy.gpsTimeAt(mono)).toBeNull();
  });

  it('stamps a past monotonic instant (a frame captured earlier) with the same clock', () => {
    const policy = new ClockPolicy({ wall: () => 1_000, mono: () => 50_000, floorMs: BUILD_FLOOR_MS });
    policy.observeGps('2026-11-22T08:00:00.000Z', 49_000);
    expect(policy.at(48_500)).toEqual({ ms: TRUE_START - 500, iso: '2026-11-22T07:59:59.500Z', clock: 'gps' });
  });

  it('uses a fix only when the receiver has a position, and explains its choice', () => {
    const policy = new ClockPolicy({ wall: () => 1_000, mono: () => 50_000, floorMs: BUILD_FLOOR_MS });
    expect(policy.observeFix({ time: '2026-11-22T08:00:00.000Z', mode: 1, receivedAtMono: 50_000 })).toBe(false);
    expect(policy.state()).toMatchObject({ clock: 'unsynced', wallMinusGpsMs: null, gpsAgeMs: null, reason: expect.stringContaining('before the release floor') });
    expect(policy.observeFix({ time: '2026-11-22T08:00:00.000Z', mode: 3, receivedAtMono: 50_000 })).toBe(true);
    expect(policy.state()).toMatchObject({ clock: 'gps', gpsAgeMs: 0, wallMinusGpsMs: 1_000 - TRUE_START, reason: expect.stringContaining('GPS time used') });
  });
});
