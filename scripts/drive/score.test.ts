import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { offsetLatLon } from '../../agent/src/fusion/geo.js';
import { loadTruth, scoreEvents, type ScoredDefect } from './score.js';
import { simulateDrive } from './simulate.js';
import { makeTruth } from './truth.js';

const origin = { lat: 52.09, lon: 5.12 };
/** A point `north` and `east` metres from the origin. */
const at = (north: number, east = 0) => offsetLatLon(origin, { northM: north, eastM: east });
const defect = (id: string, cls: string, north: number, east = 0): ScoredDefect => ({ id, class: cls as ScoredDefect['class'], ...at(north, east) });
const event = (cls: string, north: number, east = 0) => ({ class: cls, ...at(north, east) });

describe('scoreEvents', () => {
  const defects = [defect('a', 'D40', 0), defect('b', 'D40', 30), defect('c', 'D00', 60), defect('d', 'D10', 90)];

  it('a perfect run: every defect once, at its place', () => {
    const s = scoreEvents(defects.map((d) => ({ class: d.class, lat: d.lat, lon: d.lon })), { defects });
    expect(s).toMatchObject({ defects: 4, events: 4, matched: 4, duplicates: 0, precision: 1, recall: 1, eventsPerDefect: 1, falsePositives: [], missed: [] });
    expect(s.medianErrorM).toBeCloseTo(0, 9);
    expect(s.p95ErrorM).toBeCloseTo(0, 9);
  });

  it('matches per class within the radius, nearest pair first, and reports errors', () => {
    const events = [
      event('D40', 2), // a, 2 m
      event('D40', 27), // b, 3 m
      event('D00', 60, 1), // c, 1 m
      event('D10', 60), // 30 m from d: a false positive of class D10 (though right on c)
      event('D20', 500), // far from everything
    ];
    const s = scoreEvents(events, { defects }, { radiusM: 10 });
    expect(s.matches.map((m) => [m.defectId, m.event, Number(m.errorM.toFixed(3))])).toEqual([
      ['a', 0, 2],
      ['b', 1, 3],
      ['c', 2, 1],
    ]);
    expect(s.matched).toBe(3);
    expect(s.recall).toBe(0.75);
    expect(s.precision).toBe(3 / 5);
    expect(s.medianErrorM).toBeCloseTo(2, 6);
    expect(s.p95ErrorM).toBeCloseTo(3, 6);
    expect(s.falsePositives.map((f) => [f.event, f.class, f.nearest?.defectId])).toEqual([
      [3, 'D10', 'c'],
      [4, 'D20', 'd'],
    ]);
    expect(s.falsePositives[0]!.nearest!.distanceM).toBeCloseTo(0, 6);
    expect(s.missed.map((m) => [m.defect.id, Number(m.nearestEventM!.toFixed(3))])).toEqual([['d', 30]]);
    expect(s.perClass).toEqual({
      D00: { defects: 1, events: 1, matched: 1, duplicates: 0, falsePositives: 0, precision: 1, recall: 1, medianErrorM: expect.closeTo(1, 4) },
      D10: { defects: 1, events: 1, matched: 0, duplicates: 0, falsePositives: 1, precision: 0, recall: 0, medianErrorM: null },
      D20: { defects: 0, events: 1, matched: 0, duplicates: 0, falsePositives: 1, precision: 0, recall: 1, medianErrorM: null },
      D40: { defects: 2, events: 2, matched: 2, duplicates: 0, falsePositives: 0, precision: 1, recall: 1, medianErrorM: expect.closeTo(2.5, 6) },
    });
  });

  it('counts extra events for a found defect as duplicates, not false positives', () => {
    const events = [event('D40', 4), event('D40', 1), event('D40', -3), event('D40', 8)];
    const s = scoreEvents(events, { defects: [defect('a', 'D40', 0)] });
    expect(s.matches).toEqual([{ defectId: 'a', class: 'D40', event: 1, errorM: expect.closeTo(1, 6), duplicates: [0, 2, 3] }]);
    expect(s).toMatchObject({ matched: 1, duplicates: 3, falsePositives: [], precision: 1, recall: 1, eventsPerDefect: 4 });
  });

  it('gives each event to one defect and each defect one event: the greedy nearest-first assignment', () => {
    // Two potholes 6 m apart, two events between them: the nearest pair (e1–b, 1 m) goes first, so
    // e0 takes a even though it is nearer to b.
    const two = [defect('a', 'D40', 0), defect('b', 'D40', 6)];
    const s = scoreEvents([event('D40', 4), event('D40', 5)], { defects: two });
    expect(s.matches.map((m) => [m.defectId, m.event])).toEqual([
      ['a', 0],
      ['b', 1],
    ]);
    expect(s.matches[0]!.errorM).toBeCloseTo(4, 6);
    // A duplicate goes to the nearest matched defect.
    const dup = scoreEvents([event('D40', 0), event('D40', 6), event('D40', 4.5)], { defects: two });
    expect(dup.matches.map((m) => m.duplicates)).toEqual([[], [2]]);
  });

  it('respects the radius and handles the empty cases', () => {
    const one = [defect('a', 'D40', 0)];
    expect(scoreEvents([event('D40', 10.5)], { defects: one }).matched).toBe(0);
    expect(scoreEvents([event('D40', 10.5)], { defects: one }, { radiusM: 11 }).matched).toBe(1);
    const none = scoreEvents([], { defects: one });
    expect(none).toMatchObject({ precision: 1, recall: 0, medianErrorM: null, p95ErrorM: null, eventsPerDefect: null });
    expect(none.missed[0]!.nearestEventM).toBeNull();
    expect(scoreEvents([event('D40', 0)], { defects: [] })).toMatchObject({ precision: 0, recall: 1, falsePositives: [{ event: 0, nearest: null }] });
  });

  it('p95 is the nearest-rank 95th percentile of the match errors', () => {
    const many = Array.from({ length: 20 }, (_, k) => defect(`d${k}`, 'D40', k * 50));
    const events = many.map((_, k) => event('D40', k * 50 + (k + 1) * 0.25));
    const s = scoreEvents(events, { defects: many });
    expect(s.p95ErrorM).toBeCloseTo(4.75, 6); // 19th of 0.25 … 5.0
    expect(s.medianErrorM).toBeCloseTo((2.5 + 2.75) / 2, 6);
  });
});

describe('loadTruth', () => {
  it('reads truth.json from a drive directory or as a file, and rejects anything else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roadwatch-drive-truth-'));
    try {
      const truth = makeTruth(simulateDrive({ seed: 4, lengthM: 150, width: 320, height: 180 }));
      writeFileSync(join(dir, 'truth.json'), JSON.stringify(truth));
      expect(await loadTruth(dir)).toEqual(truth);
      expect(await loadTruth(join(dir, 'truth.json'))).toEqual(truth);
      const s = scoreEvents(truth.defects.map((d) => ({ class: d.class, lat: d.lat, lon: d.lon })), truth);
      expect(s.recall).toBe(1);
      writeFileSync(join(dir, 'other.json'), JSON.stringify({ version: 2 }));
      await expect(loadTruth(join(dir, 'other.json'))).rejects.toThrow(/not a roadwatch drive truth file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
