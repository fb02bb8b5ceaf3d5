import { EventBodySchema } from '@roadwatch/shared';
import { describe, expect, it } from 'vitest';
import type { TrackedDefect } from './summarize.js';
import { toEventBody } from './to-event.js';

const defect: TrackedDefect = {
  class: 'pothole',
  confidence: 0.87654,
  hits: 5,
  bbox: [412.4, 388.6, 530.2, 455.9],
  frame: { w: 1280, h: 720 },
  tMs: Date.UTC(2026, 10, 22, 8, 0, 58, 120),
  clock: 'gps',
  lat: 52.370212345678,
  lon: 4.895171234567,
  accuracyM: 2.5432,
  headingDeg: 182.54,
  speedKmh: 41.83,
  poseMethod: 'interpolated',
};

describe('toEventBody', () => {
  it('maps a tracked defect to the wire shape the outbox takes', () => {
    const body = toEventBody(defect, 'road-damage-tiny@1');
    expect(body).toEqual({
      ts: '2026-11-22T08:00:58.120Z',
      clock: 'gps',
      lat: 52.3702123,
      lon: 4.8951712,
      accuracyM: 2.5,
      speedKmh: 41.8,
      headingDeg: 182.5,
      class: 'pothole',
      confidence: 0.877,
      hits: 5,
      bbox: [412, 389, 530, 456],
      frame: { w: 1280, h: 720 },
      model: 'road-damage-tiny@1',
    });
    expect(EventBodySchema.safeParse(body).success).toBe(true);
  });

  it.each([
    ['heading 359.97 rounds to 0, not 360', { headingDeg: 359.97 }, { headingDeg: 0 }],
    ['unknown heading and speed are omitted', { headingDeg: null, speedKmh: null }, { headingDeg: undefined, speedKmh: undefined }],
    ['a box past the frame edge is clipped', { bbox: [-3, 700, 1300, 725] }, { bbox: [0, 700, 1280, 720] }],
    ['an unsynced clock is carried through', { clock: 'unsynced' as const, tMs: 12_345 }, { clock: 'unsynced', ts: '1970-01-01T00:00:12.345Z' }],
    ['a longitude past 180 is wrapped', { lon: 180.00001 }, { lon: -179.99999 }],
    ['a negative speed (noise) becomes 0', { speedKmh: -0.2 }, { speedKmh: 0 }],
  ] as [string, Partial<TrackedDefect>, Record<string, unknown>][])('%s', (_label, change, expected) => {
    const body = toEventBody({ ...defect, ...change });
    for (const [key, value] of Object.entries(expected)) expect((body as Record<string, unknown>)[key]).toEqual(value);
    expect(EventBodySchema.safeParse(body).success).toBe(true);
  });

  it('omits the model when none is given', () => {
    expect(toEventBody(defect)).not.toHaveProperty('model');
  });
});
