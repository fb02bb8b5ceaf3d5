import type { EventBodyInput } from '@roadwatch/shared';

const CLASSES = ['pothole', 'crack_longitudinal', 'crack_transverse', 'crack_alligator', 'patch'] as const;

/** A realistic, valid event body; `i` varies position, time and class deterministically. */
export function sampleEvent(i: number, overrides: Partial<EventBodyInput> = {}): EventBodyInput {
  return {
    ts: new Date(Date.UTC(2026, 10, 22, 8, 0, 0) + i * 250).toISOString(),
    clock: 'gps',
    lat: 52.37 + (i % 1000) * 1e-5,
    lon: 4.895 + (i % 777) * 1e-5,
    accuracyM: 2.5,
    speedKmh: 30 + (i % 50),
    headingDeg: (i * 7) % 360,
    class: CLASSES[i % CLASSES.length]!,
    confidence: 0.5 + (i % 50) / 100,
    hits: 1 + (i % 9),
    bbox: [400 + (i % 100), 380, 530, 455],
    frame: { w: 1280, h: 720 },
    model: 'road-damage-tiny@1',
    ...overrides,
  };
}

export function sampleEvents(count: number, from = 0): EventBodyInput[] {
  return Array.from({ length: count }, (_, k) => sampleEvent(from + k));
}
