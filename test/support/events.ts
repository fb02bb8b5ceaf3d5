import { writeFileSync } from 'node:fs';

const CLASSES = ['D00', 'D10', 'D20', 'D40'];

/** Deterministic pseudo-random events along a drive (mulberry32), as `roadwatch replay` reads them. */
export function makeEvents(count: number, seed = 1, startMs = Date.parse('2026-11-20T07:00:00Z')): object[] {
  let state = seed >>> 0;
  const rand = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const events: object[] = [];
  for (let i = 0; i < count; i++) {
    events.push({
      ts: new Date(startMs + i * 250).toISOString(),
      clock: 'gps',
      lat: 52.3 + rand() * 0.1,
      lon: 4.85 + rand() * 0.1,
      accuracyM: 2 + rand() * 3,
      speedKmh: 30 + rand() * 40,
      headingDeg: rand() * 359,
      class: CLASSES[Math.floor(rand() * CLASSES.length)],
      confidence: 0.3 + rand() * 0.7,
      hits: 1 + Math.floor(rand() * 8),
      bbox: [400, 380, 520, 450],
      frame: { w: 1280, h: 720 },
      model: 'road-damage-tiny@1',
    });
  }
  return events;
}

export function writeEventsJsonl(path: string, count: number, seed = 1): void {
  writeFileSync(path, makeEvents(count, seed).map((e) => JSON.stringify(e)).join('\n') + '\n');
}
