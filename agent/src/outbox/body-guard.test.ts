import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventBodySchema } from '@roadwatch/shared';
import { isValidBody, withDefaults } from './body-guard.js';
import { sampleEvent, sampleEvents } from './testing/sample-events.js';

const FIELDS = [...Object.keys(EventBodySchema.shape), 'eventId', 'seq', 'extra', 'w', '__proto__'];

const tricky = fc.oneof(
  fc.constantFrom(undefined, null, true, '', 'x', 'gps', 'system', 'unsynced', 'GPS', [], {}, NaN, Infinity, -Infinity, -0, 0, 1, -1),
  fc.constantFrom(90, 90.0000001, -90, -90.0000001, 180, 180.0000001, -180.0000001, 100_000, 100_000.5, 1_000, 1_000.5, 360, 359.999, 1_000_000, 1_000_001, 0.5, 1.5, 2 ** 53, -0.0001),
  fc.double(),
  fc.integer({ min: -10, max: 2_000_000 }),
  fc.string({ maxLength: 140 }),
  fc.constantFrom(...[63, 64, 65, 127, 128, 129].map((n) => 'p'.repeat(n)), '🕳️'.repeat(32), '🕳'.repeat(33)),
  fc.constantFrom('2026-11-22T08:00:58.120Z', '2026-11-22T08:00:58.120+02:00', '2026-11-22 08:00:58', '2026-13-22T08:00:58Z', '2026-11-22T08:00:58', '2026-11-22'),
  fc.array(fc.oneof(fc.double(), fc.constant(undefined), fc.string({ maxLength: 2 })), { maxLength: 6 }),
  fc.constantFrom([1, 2, 3, 4], [1, 2, 3], [1, 2, 3, 4, 5], [1, NaN, 3, 4], [1, , 3, 4], ['1', 2, 3, 4]),
  fc.record({ w: fc.oneof(fc.integer({ min: -2, max: 5000 }), fc.double()), h: fc.oneof(fc.integer({ min: -2, max: 5000 }), fc.constant('720')) }),
  fc.constantFrom({ w: 1280, h: 720, d: 3 }, { w: 1280 }, Object.create({ w: 1, h: 1 }) as object),
);

const mutation = fc.tuple(fc.constantFrom(...FIELDS), fc.oneof(tricky, fc.constant('delete' as const)));

describe('isValidBody', () => {
  it('accepts realistic bodies, so the append hot path skips zod', () => {
    for (const body of sampleEvents(500)) expect(isValidBody(body)).toBe(true);
  });

  it('never accepts what EventBodySchema rejects, and returns what zod would', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (i, mutations) => {
        const body: Record<string, unknown> = { ...sampleEvent(i) };
        for (const [key, value] of mutations) {
          if (value === 'delete') delete body[key];
          else Object.defineProperty(body, key, { value, enumerable: true, writable: true, configurable: true });
        }
        if (!isValidBody(body)) return;
        const zod = EventBodySchema.safeParse(body);
        expect(zod.success, JSON.stringify(body)).toBe(true);
        expect(withDefaults(body)).toEqual(zod.data);
      }),
      { numRuns: 30_000 },
    );
  });

  it('rejects non-plain objects and arrays', () => {
    expect(isValidBody(null)).toBe(false);
    expect(isValidBody([])).toBe(false);
    expect(isValidBody(Object.assign(Object.create({ extra: 1 }) as object, sampleEvent(0)))).toBe(false);
  });
});
