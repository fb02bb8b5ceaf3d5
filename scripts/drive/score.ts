// Scoring a replay of a simulated drive: the agent's events against the defects in truth.json.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { distanceM } from '../../agent/src/fusion/geo.js';
import { TRUTH_FILE, type Truth, type TruthDefect } from './truth.js';

export type { Truth, TruthBox, TruthDefect, TruthFrame } from './truth.js';

/** What scoring needs of an event (a roadwatch EventBody has these). */
export interface ScoredEvent {
  class: string;
  lat: number;
  lon: number;
}

/** What scoring needs of a defect (a truth.json defect has these). */
export type ScoredDefect = Pick<TruthDefect, 'id' | 'class' | 'lat' | 'lon'>;

export interface ScoreOptions {
  /** An event farther than this from a defect of its class does not match it. Default 10 m. */
  radiusM?: number;
}

export interface Match {
  defectId: string;
  class: string;
  /** Index of the matched event in the input. */
  event: number;
  errorM: number;
  /** Indices of further events of the same class within radiusM of this defect. */
  duplicates: number[];
}

export interface FalsePositive {
  event: number;
  class: string;
  lat: number;
  lon: number;
  /** The nearest defect of any class (a right place with the wrong class shows here), or null without defects. */
  nearest: { defectId: string; class: string; distanceM: number } | null;
}

export interface Miss<D extends ScoredDefect = TruthDefect> {
  defect: D;
  /** The nearest event of the defect's class, or null when there is none. */
  nearestEventM: number | null;
}

export interface ClassScore {
  defects: number;
  events: number;
  matched: number;
  duplicates: number;
  falsePositives: number;
  precision: number;
  recall: number;
  medianErrorM: number | null;
}

export interface DriveScore<D extends ScoredDefect = TruthDefect> {
  radiusM: number;
  defects: number;
  events: number;
  /** Defects with a matching event. */
  matched: number;
  /** Events beyond the first for a matched defect. */
  duplicates: number;
  /** (events − false positives) / events: duplicates are not false positives; 1 without events. */
  precision: number;
  /** matched / defects; 1 without defects. */
  recall: number;
  /** Distance from each defect to its matched event (the nearest, by the greedy matching). */
  medianErrorM: number | null;
  p95ErrorM: number | null;
  /** (matched + duplicates) / matched: 1 = one event per defect found; null when none matched. */
  eventsPerDefect: number | null;
  matches: Match[];
  falsePositives: FalsePositive[];
  missed: Miss<D>[];
  perClass: Record<string, ClassScore>;
}

/** Reads DIR/truth.json (or the file itself when given one). */
export async function loadTruth(dirOrFile: string): Promise<Truth> {
  const file = (await stat(dirOrFile)).isDirectory() ? join(dirOrFile, TRUTH_FILE) : dirOrFile;
  const truth = JSON.parse(await readFile(file, 'utf8')) as Truth;
  if (truth?.version !== 'roadwatch-drive/1') throw new Error(`${file}: not a roadwatch drive truth file (version ${JSON.stringify(truth?.version)}, want "roadwatch-drive/1")`);
  if (!Array.isArray(truth.defects) || !Array.isArray(truth.frames)) throw new Error(`${file}: defects and frames must be lists`);
  for (const d of truth.defects) {
    if (typeof d.id !== 'string' || typeof d.class !== 'string' || !Number.isFinite(d.lat) || !Number.isFinite(d.lon)) throw new Error(`${file}: defect ${JSON.stringify(d)} needs id, class, lat and lon`);
  }
  return truth;
}

/**
 * Matches events to defects of the same class within radiusM, greedily nearest pair first: each
 * defect takes at most one event and each event at most one defect. An unmatched event within radiusM
 * of a matched defect of its class is a duplicate of the nearest such defect; any other unmatched event
 * is a false positive. Pure.
 */
export function scoreEvents<D extends ScoredDefect>(events: readonly ScoredEvent[], truth: { defects: readonly D[] }, options: ScoreOptions = {}): DriveScore<D> {
  const radiusM = options.radiusM ?? 10;
  const defects = truth.defects;
  const pairs: { event: number; defect: number; d: number }[] = [];
  events.forEach((e, i) =>
    defects.forEach((def, j) => {
      if (e.class !== def.class) return;
      const d = distanceM(e, def);
      if (d <= radiusM) pairs.push({ event: i, defect: j, d });
    }),
  );
  pairs.sort((a, b) => a.d - b.d || a.event - b.event || a.defect - b.defect);

  const eventTaken = new Array<boolean>(events.length).fill(false);
  const matchOf = new Map<number, Match>();
  for (const p of pairs) {
    if (eventTaken[p.event] || matchOf.has(p.defect)) continue;
    eventTaken[p.event] = true;
    matchOf.set(p.defect, { defectId: defects[p.defect]!.id, class: defects[p.defect]!.class, event: p.event, errorM: p.d, duplicates: [] });
  }
  const falsePositives: FalsePositive[] = [];
  events.forEach((e, i) => {
    if (eventTaken[i]) return;
    // Pairs are sorted by distance: the first one of this event with a matched defect is the nearest.
    const dup = pairs.find((p) => p.event === i && matchOf.has(p.defect));
    if (dup) {
      matchOf.get(dup.defect)!.duplicates.push(i);
      return;
    }
    let nearest: FalsePositive['nearest'] = null;
    for (const def of defects) {
      const d = distanceM(e, def);
      if (!nearest || d < nearest.distanceM) nearest = { defectId: def.id, class: def.class, distanceM: d };
    }
    falsePositives.push({ event: i, class: e.class, lat: e.lat, lon: e.lon, nearest });
  });

  const matches = defects.flatMap((_, j) => matchOf.get(j) ?? []);
  const missed: Miss<D>[] = defects
    .filter((_, j) => !matchOf.has(j))
    .map((defect) => {
      const same = events.filter((e) => e.class === defect.class).map((e) => distanceM(e, defect));
      return { defect, nearestEventM: same.length > 0 ? Math.min(...same) : null };
    });

  const classes = [...new Set([...defects.map((d) => d.class as string), ...events.map((e) => e.class)])].sort();
  const perClass: Record<string, ClassScore> = {};
  for (const cls of classes) {
    const m = matches.filter((x) => x.class === cls);
    perClass[cls] = summary(
      defects.filter((d) => d.class === cls).length,
      events.filter((e) => e.class === cls).length,
      m,
      falsePositives.filter((f) => f.class === cls).length,
    );
  }
  const all = summary(defects.length, events.length, matches, falsePositives.length);
  const errors = matches.map((m) => m.errorM).sort((a, b) => a - b);
  return {
    radiusM,
    defects: all.defects,
    events: all.events,
    matched: all.matched,
    duplicates: all.duplicates,
    precision: all.precision,
    recall: all.recall,
    medianErrorM: all.medianErrorM,
    p95ErrorM: errors.length > 0 ? errors[Math.ceil(0.95 * errors.length) - 1]! : null,
    eventsPerDefect: matches.length > 0 ? (matches.length + all.duplicates) / matches.length : null,
    matches,
    falsePositives,
    missed,
    perClass,
  };
}

function summary(defects: number, events: number, matches: readonly Match[], falsePositives: number): ClassScore {
  const duplicates = matches.reduce((n, m) => n + m.duplicates.length, 0);
  return {
    defects,
    events,
    matched: matches.length,
    duplicates,
    falsePositives,
    precision: events > 0 ? (events - falsePositives) / events : 1,
    recall: defects > 0 ? matches.length / defects : 1,
    medianErrorM: median(matches.map((m) => m.errorM)),
  };
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
