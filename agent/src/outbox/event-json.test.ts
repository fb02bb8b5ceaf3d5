import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newEventId, type RoadEvent } from '@roadwatch/shared';
import { eventJson } from './event-json.js';
import { sampleEvent } from './testing/sample-events.js';

const num = fc.double({ noNaN: true, noDefaultInfinity: true });
const text = (max: number) => fc.oneof(fc.string({ minLength: 1, maxLength: max }), fc.string({ unit: 'binary', minLength: 1, maxLength: max }), fc.constantFrom('a"b\\c', 'line\nbreak', '\u2028\u2029', '\ud800'));

describe('eventJson', () => {
  it('writes exactly what JSON.stringify writes for valid events', () => {
    const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
    fc.assert(
      fc.property(
        fc.record({
          seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
          ts: fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString()),
          clock: fc.constantFrom('gps', 'system', 'unsynced'),
          lat: fc.double({ min: -90, max: 90, noNaN: true }),
          lon: fc.double({ min: -180, max: 180, noNaN: true }),
          accuracyM: optional(fc.double({ min: 0, max: 100_000, noNaN: true })),
          speedKmh: optional(fc.double({ min: 0, max: 1_000, noNaN: true })),
          headingDeg: optional(fc.double({ min: 0, max: 359.99, noNaN: true })),
          class: text(64),
          confidence: fc.double({ min: 0, max: 1, noNaN: true }),
          hits: fc.integer({ min: 1, max: 1_000_000 }),
          bbox: optional(fc.tuple(num, num, num, num)),
          frame: optional(fc.record({ w: fc.integer({ min: 1, max: 1e9 }), h: fc.integer({ min: 1, max: 1e9 }) })),
          model: optional(text(128)),
        }),
        (fields) => {
          const event = { eventId: newEventId(), ...fields } as RoadEvent;
          expect(eventJson(event)).toBe(JSON.stringify(event));
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('matches for the realistic sample', () => {
    const event = { eventId: newEventId(), seq: 7, ...sampleEvent(3) } as RoadEvent;
    expect(eventJson(event)).toBe(JSON.stringify(event));
  });
});
