import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Fix } from '../gps/fix.js';
import { fixSampleFromGps, type GpsFixFields } from './fix-sample.js';

const fix: GpsFixFields = { time: '2026-11-22T08:00:58.120Z', lat: 52.37, lon: 4.895, mode: 3, hdop: 0.9, speedKmh: 41.8, courseDeg: 182.5 };

describe('fixSampleFromGps', () => {
  it('takes the GPS module\'s Fix as it is', () => {
    expectTypeOf<Fix>().toExtend<GpsFixFields>();
  });

  it('maps a fix with time and position', () => {
    expect(fixSampleFromGps(fix)).toEqual({ tMs: Date.UTC(2026, 10, 22, 8, 0, 58, 120), lat: 52.37, lon: 4.895, speedKmh: 41.8, courseDeg: 182.5, mode: 3, hdop: 0.9 });
  });

  it.each([
    ['no date yet', { time: null }],
    ['an unparsable time', { time: 'yesterday' }],
    ['no latitude', { lat: null }],
    ['no longitude', { lon: null }],
  ])('is null with %s', (_label, change) => {
    expect(fixSampleFromGps({ ...fix, ...change })).toBeNull();
  });
});
