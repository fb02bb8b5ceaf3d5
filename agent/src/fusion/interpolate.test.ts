import { describe, expect, it } from 'vitest';
import { distanceM, offsetLatLon, vehicleToNorthEast } from './geo.js';
import { addFix, DEFAULT_POSITION_POLICY, poseAt, pruneFixes, type FixSample } from './interpolate.js';

const T0 = Date.UTC(2026, 10, 22, 8, 0, 0);
const origin = { lat: 52.37, lon: 4.895 };

/** Fixes of a vehicle driving at a constant speed and heading, one per `periodMs`. */
function straightTrack(count: number, speedKmh: number, headingDeg: number, periodMs = 1_000, start = origin): FixSample[] {
  return Array.from({ length: count }, (_, k) => {
    const p = offsetLatLon(start, vehicleToNorthEast(headingDeg, (speedKmh / 3.6) * ((k * periodMs) / 1000), 0));
    return { tMs: T0 + k * periodMs, lat: p.lat, lon: p.lon, speedKmh, courseDeg: headingDeg, mode: 3, hdop: 1 };
  });
}

function truthAt(tMs: number, speedKmh: number, headingDeg: number, start = origin) {
  return offsetLatLon(start, vehicleToNorthEast(headingDeg, (speedKmh / 3.6) * ((tMs - T0) / 1000), 0));
}

describe('poseAt', () => {
  const track = straightTrack(5, 50, 30);

  it.each([
    ['on a fix', 2_000, 'interpolated'],
    ['between fixes', 2_300, 'interpolated'],
    ['1.2 s after the newest fix', 5_200, 'extrapolated'],
    ['1.5 s after the newest fix', 5_500, 'extrapolated'],
    ['3 s after the newest fix', 7_000, 'degraded'],
    ['5 s after the newest fix', 9_000, 'degraded'],
    ['0.8 s before the oldest fix', -800, 'extrapolated'],
  ])('%s → %s, on the true track', (_label, offsetMs, method) => {
    const result = poseAt(track, T0 + offsetMs);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.pose.method).toBe(method);
    expect(distanceM(result.pose, truthAt(T0 + offsetMs, 50, 30))).toBeLessThan(0.01);
    expect(result.pose.headingDeg).toBeCloseTo(30, 6);
    expect(result.pose.speedKmh).toBeCloseTo(50, 6);
  });

  it('accuracy grows with age × speed when dead-reckoning, faster once degraded', () => {
    const at = (offsetMs: number) => {
      const r = poseAt(track, T0 + offsetMs);
      if (!r.ok) throw new Error('no pose');
      return r.pose.accuracyM;
    };
    const base = at(2_500);
    expect(base).toBeCloseTo(1 * DEFAULT_POSITION_POLICY.uereM, 9);
    expect(at(5_000)).toBeCloseTo(base + (50 / 3.6) * 1 * DEFAULT_POSITION_POLICY.deadReckoningError, 6);
    const freshGrowth = (50 / 3.6) * 1.5 * DEFAULT_POSITION_POLICY.deadReckoningError;
    expect(at(7_000)).toBeCloseTo(base + freshGrowth + (50 / 3.6) * 1.5 * DEFAULT_POSITION_POLICY.degradedError, 6);
    expect(at(9_000)).toBeGreaterThan(at(7_000));
  });

  it.each([
    ['no fix at all', [] as FixSample[], T0, 'no-fix'],
    ['the newest fix 5.1 s old', straightTrack(3, 50, 0), T0 + 2_000 + 5_100, 'stale'],
    ['the oldest fix 6 s in the future', straightTrack(3, 50, 0), T0 - 6_000, 'stale'],
  ])('no position with %s — never guessed', (_label, fixes, tMs, reason) => {
    const result = poseAt(fixes, tMs);
    expect(result).toMatchObject({ ok: false, reason });
  });

  it('interpolates across a missing fix but not across a long outage', () => {
    const gappy = straightTrack(6, 50, 90).filter((_, k) => k !== 2);
    const short = poseAt(gappy, T0 + 2_400);
    expect(short.ok && short.pose.method).toBe('interpolated');
    const outage = straightTrack(10, 50, 90).filter((_, k) => k < 2 || k > 6);
    const long = poseAt(outage, T0 + 5_000);
    expect(long.ok && long.pose.method).toBe('degraded');
  });

  it('wraps heading 359 → 1 through north', () => {
    const fixes: FixSample[] = [
      { tMs: T0, ...origin, speedKmh: 30, courseDeg: 359, mode: 3, hdop: 1 },
      { tMs: T0 + 1_000, ...offsetLatLon(origin, { northM: 8.3, eastM: 0 }), speedKmh: 30, courseDeg: 1, mode: 3, hdop: 1 },
    ];
    const mid = poseAt(fixes, T0 + 500);
    expect(mid.ok && mid.pose.headingDeg).toBeCloseTo(0, 9);
    const quarter = poseAt(fixes, T0 + 250);
    expect(mid.ok && quarter.ok && quarter.pose.headingDeg).toBeCloseTo(359.5, 9);
  });

  it('interpolates longitude across the antimeridian', () => {
    const start = { lat: -16.8, lon: 179.99995 };
    const fixes = straightTrack(3, 36, 90, 1_000, start);
    expect(fixes[1]!.lon).toBeLessThan(0);
    const mid = poseAt(fixes, T0 + 500);
    expect(mid.ok).toBe(true);
    if (mid.ok) expect(distanceM(mid.pose, truthAt(T0 + 500, 36, 90, start))).toBeLessThan(0.01);
  });

  it('takes the heading from the track when the course is missing or the vehicle crawls', () => {
    const fixes = straightTrack(3, 20, 120).map((f) => ({ ...f, courseDeg: null }));
    const r = poseAt(fixes, T0 + 1_500);
    expect(r.ok && r.pose.headingDeg).toBeCloseTo(120, 3);
    const crawling = straightTrack(3, 2, 120).map((f, k) => ({ ...f, courseDeg: k === 2 ? 300 : 120, speedKmh: k === 2 ? 1 : 20 }));
    const after = poseAt(crawling, T0 + 2_200);
    expect(after.ok && after.pose.headingDeg).toBeCloseTo(120, 3);
  });

  it('derives speed from the track when fixes carry none', () => {
    const fixes = straightTrack(3, 72, 10).map((f) => ({ ...f, speedKmh: null }));
    const r = poseAt(fixes, T0 + 1_500);
    expect(r.ok && r.pose.speedKmh).toBeCloseTo(72, 3);
    const ahead = poseAt(fixes, T0 + 2_500);
    expect(ahead.ok && distanceM(ahead.pose, truthAt(T0 + 2_500, 72, 10))).toBeLessThan(0.05);
  });

  it('holds the position at the fix and widens accuracy when speed is unknown', () => {
    const lone: FixSample[] = [{ tMs: T0, ...origin, speedKmh: null, courseDeg: null, mode: 3, hdop: null }];
    const r = poseAt(lone, T0 + 1_000);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(distanceM(r.pose, origin)).toBe(0);
    expect(r.pose.accuracyM).toBeCloseTo(DEFAULT_POSITION_POLICY.noHdopAccuracyM + DEFAULT_POSITION_POLICY.unknownSpeedMps * DEFAULT_POSITION_POLICY.deadReckoningError, 6);
  });
});

describe('fix history', () => {
  const fix = (tMs: number, mode: FixSample['mode'] = 3): FixSample => ({ tMs, ...origin, speedKmh: 0, courseDeg: null, mode, hdop: 1 });

  it.each([
    ['appends in order', [1, 2], 3, [1, 2, 3]],
    ['inserts a late fix in order', [1, 3], 2, [1, 2, 3]],
    ['replaces a fix of the same time', [1, 2], 2, [1, 2]],
    ['prepends an older fix', [2, 3], 1, [1, 2, 3]],
  ])('addFix %s', (_label, existing, added, expected) => {
    const result = addFix(existing.map((t) => fix(t)), fix(added));
    expect(result.map((f) => f.tMs)).toEqual(expected);
  });

  it.each([[0], [1]] as [FixSample['mode']][])('ignores a fix of mode %d (no position)', (mode) => {
    expect(addFix([fix(1)], fix(2, mode)).map((f) => f.tMs)).toEqual([1]);
  });

  it('ignores a fix with an impossible position', () => {
    expect(addFix([], { ...fix(1), lat: 91 })).toEqual([]);
  });

  it.each([
    [0, [1, 2, 3, 4]],
    [2, [1, 2, 3, 4]],
    [2.5, [2, 3, 4]],
    [9, [4]],
  ])('pruneFixes(from %d) keeps one fix before the cut', (from, expected) => {
    expect(pruneFixes([1, 2, 3, 4].map((t) => fix(t)), from).map((f) => f.tMs)).toEqual(expected);
  });
});
