import { describe, expect, it } from 'vitest';
import { offsetLatLon } from './geo.js';
import {
  DEFAULT_DEDUPE_POLICY,
  INITIAL_MOTION,
  isAlreadyReported,
  rememberSpot,
  updateMotion,
  type MotionState,
  type ReportedSpot,
} from './stationary.js';

/** Feeds (time s, speed km/h | null) samples; returns the stationary flag after each. */
function run(samples: [number, number | null][], start: MotionState = INITIAL_MOTION): boolean[] {
  let state = start;
  return samples.map(([tS, speed]) => {
    state = updateMotion(state, tS * 1000, speed);
    return state.stationary;
  });
}

describe('updateMotion (hysteresis)', () => {
  it.each([
    ['driving', [[0, 50], [1, 48], [2, 45]], [false, false, false]],
    ['stopping: stationary only after 2 s below 3 km/h', [[0, 10], [1, 2], [2, 1], [3, 0], [4, 0]], [false, false, false, true, true]],
    ['a brief slow-down is not a stop', [[0, 2], [1, 1], [1.5, 20], [2.5, 1]], [false, false, false, false]],
    ['GPS jitter of 4 km/h while parked keeps it stationary', [[0, 0], [2, 0], [3, 4], [4, 5.9], [5, 1]], [false, true, true, true, true]],
    ['moving off at 6 km/h ends the stop at once', [[0, 0], [2, 0], [3, 6], [4, 4]], [false, true, false, false]],
    ['no speed (no fix) changes nothing', [[0, 0], [2, 0], [3, null], [10, null]], [false, true, true, true]],
  ] as [string, [number, number | null][], boolean[]][])('%s', (_label, samples, expected) => {
    expect(run(samples)).toEqual(expected);
  });

  it('never infers a stop from silence', () => {
    expect(run([[0, null], [10, null]])).toEqual([false, false]);
  });
});

describe('spatial de-duplication', () => {
  const here = { lat: 52.37, lon: 4.895 };
  const reported: ReportedSpot[] = [{ class: 'pothole', ...here, tMs: 0 }];
  const minutes = 60_000;

  it.each([
    ['same class 4 m away a minute later', 'pothole', { northM: 4, eastM: 0 }, 1 * minutes, true],
    ['same class exactly at the radius', 'pothole', { northM: 0, eastM: DEFAULT_DEDUPE_POLICY.radiusM - 0.01 }, 1 * minutes, true],
    ['same class 8 m away', 'pothole', { northM: 8, eastM: 0 }, 1 * minutes, false],
    ['another class at the same spot', 'crack', { northM: 0, eastM: 0 }, 1 * minutes, false],
    ['same class and spot after the window', 'pothole', { northM: 0, eastM: 0 }, 11 * minutes, false],
  ] as const)('%s → duplicate: %s', (_label, cls, offset, tMs, expected) => {
    expect(isAlreadyReported(reported, { class: cls, ...offsetLatLon(here, offset), tMs })).toBe(expected);
  });

  it('forgets spots older than the window and stays bounded', () => {
    let spots: ReportedSpot[] = [];
    for (let k = 0; k < 30; k++) spots = rememberSpot(spots, { class: 'pothole', ...here, tMs: k * minutes }, { radiusM: 6, windowMs: 10 * minutes, maxSpots: 5 });
    expect(spots.map((s) => s.tMs / minutes)).toEqual([25, 26, 27, 28, 29]);
    spots = rememberSpot([], { class: 'pothole', ...here, tMs: 0 });
    spots = rememberSpot(spots, { class: 'pothole', ...here, tMs: 11 * minutes });
    expect(spots).toHaveLength(1);
  });
});
