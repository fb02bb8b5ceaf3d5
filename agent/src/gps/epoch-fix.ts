import type { Fix, FixMode } from './fix.js';
import type { CalendarDate, TimeOfDay } from './nmea-fields.js';
import type { Gga, Gll, Gns, Gsa, Rmc, Sentence } from './nmea-decode.js';

/** What one epoch needs to know about the ones before it. Mutated by `epochFix`. */
export interface EpochContext {
  /** UTC ms of the last epoch that had a date, to date epochs made of GGA/GLL/GNS alone. */
  lastInstantMs: number | null;
  /** Time of day of the previous epoch, to spot a receiver that repeats its last time. */
  lastTimeKey: string | null;
  lastMode: FixMode;
  lastHadAltitude: boolean;
}

const KNOTS_TO_KMH = 1.852;
const DAY_MS = 86_400_000;

/**
 * One epoch's sentences → one fix. The rules follow gpsd's NMEA driver (drivers/driver_nmea0183.c)
 * so the corpus test can hold the two side by side, but they do not depend on sentence order:
 *
 * Validity — an RMC in the epoch decides (status A or D, FAA mode not N/S/M); without an RMC, a GGA
 * with quality 1–6, a GNS with a valid mode letter or a GLL with status A does. Quality 8 and FAA
 * mode S are simulator output: never a fix (gpsd reports those as mode 1 as well). A receiver that
 * repeats the time of the previous epoch is stuck: no fix (gpsd's "latch mode").
 *
 * Mode — with a valid position: 3D when a GGA or GNS gives an altitude with at least 4 satellites,
 * when a GSA says 3D, or when more than 3 satellites are listed used in the GSAs (gpsd's RMC rule);
 * 2D otherwise (RMC or GLL alone, a GGA without altitude) — except that an epoch with nothing to
 * say about height (RMC/GLL only, no 2D GSA) right after a 3D epoch with an altitude stays 3D, as
 * gpsd does not downgrade on such sentences. Without a valid position: 1.
 *
 * Position — the first valid of GGA, GNS, RMC, GLL, preferring the combined `GN` talker.
 * Time — see `Fix.time`.
 */
export function epochFix(sentences: readonly Sentence[], context: EpochContext, rxMono: number | null): Fix {
  const ggas = only(sentences, 'GGA');
  const rmcs = only(sentences, 'RMC');
  const glls = only(sentences, 'GLL');
  const gnss = only(sentences, 'GNS');
  const gsas = only(sentences, 'GSA');
  const vtgs = only(sentences, 'VTG');
  const zdas = only(sentences, 'ZDA');

  const tod = firstTime(sentences);
  const time = resolveTime(tod, rmcs, zdas, context);

  const validRmcs = rmcs.filter(rmcValid);
  const positions = [
    ...preferGn(ggas.filter(ggaValid)),
    ...preferGn(gnss.filter(gnsValid)),
    ...preferGn(validRmcs),
    ...preferGn(glls.filter(gllValid)),
  ].filter((s) => s.lat !== null && s.lon !== null);
  const repeated = tod !== null && context.lastTimeKey === tod.text;
  const rmcSaysNo = rmcs.length > 0 && validRmcs.length === 0;
  const pos = !rmcSaysNo && !repeated ? positions[0] : undefined;

  const heights = [...ggas.filter(ggaValid), ...gnss.filter(gnsValid)];
  const altSource = heights.find((s) => s.altM !== null);
  const usedInGsa = satellitesUsed(gsas);
  let mode: FixMode = 1;
  if (pos) {
    const threeD =
      heights.some((s) => s.altM !== null && (s.sats ?? 0) >= 4) || gsas.some((g) => g.fixMode === 3) || usedInGsa > 3;
    // gpsd does not downgrade a 3D fix to 2D on a sentence that cannot tell (RMC, GLL): an epoch
    // without any height information after a 3D epoch stays 3D.
    const saysTwoD = gsas.some((g) => g.fixMode === 2) || heights.length > 0;
    mode = threeD || (context.lastMode === 3 && context.lastHadAltitude && !saysTwoD) ? 3 : 2;
  }

  const satsFrom = gnss.find((s) => s.sats !== null)?.sats ?? maxOf(ggas.map((g) => g.sats));
  const hdop = [...preferGn(ggas), ...gnss, ...gsas].map((s) => s.hdop).find((v) => v !== null) ?? null;
  const rmcMotion = validRmcs.find((r) => r.speedKn !== null || r.courseDeg !== null);
  const vtg = vtgs.find((v) => v.faaMode !== 'N' && (v.speedKmh !== null || v.speedKn !== null || v.courseDeg !== null));
  const speedKmh = rmcMotion?.speedKn != null ? rmcMotion.speedKn * KNOTS_TO_KMH : (vtg?.speedKmh ?? (vtg?.speedKn != null ? vtg.speedKn * KNOTS_TO_KMH : null));
  const courseDeg = rmcMotion?.courseDeg ?? vtg?.courseDeg ?? null;

  context.lastTimeKey = tod?.text ?? null;
  context.lastMode = mode;
  if (mode !== 3 || altSource !== undefined) context.lastHadAltitude = altSource !== undefined;

  const fixed = mode >= 2 && pos !== undefined;
  return {
    time,
    timeOfDay: tod?.text ?? null,
    lat: fixed ? round(pos.lat as number, 9) : null,
    lon: fixed ? round(pos.lon as number, 9) : null,
    altM: fixed && mode === 3 ? (altSource?.altM ?? null) : null,
    mode,
    sats: satsFrom ?? (usedInGsa > 0 ? usedInGsa : null),
    hdop,
    speedKmh: fixed && speedKmh !== null ? round(speedKmh, 3) : null,
    courseDeg: fixed ? courseDeg : null,
    source: 'nmea',
    receivedAtMono: rxMono,
  };
}

function only<T extends Sentence['type']>(sentences: readonly Sentence[], type: T): Array<Extract<Sentence, { type: T }>> {
  return sentences.filter((s): s is Extract<Sentence, { type: T }> => s.type === type);
}

function preferGn<T extends Sentence>(list: T[]): T[] {
  return [...list.filter((s) => s.talker === 'GN'), ...list.filter((s) => s.talker !== 'GN')];
}

function rmcValid(r: Rmc): boolean {
  return (r.status === 'A' || r.status === 'D') && r.faaMode !== 'N' && r.faaMode !== 'S' && r.faaMode !== 'M';
}

function ggaValid(g: Gga): boolean {
  return g.quality !== null && g.quality >= 1 && g.quality <= 6;
}

function gnsValid(g: Gns): boolean {
  return g.modes !== null && /[ADPRFE]/.test(g.modes);
}

function gllValid(g: Gll): boolean {
  return g.status === 'A' && g.faaMode !== 'N' && g.faaMode !== 'S' && g.faaMode !== 'M';
}

function firstTime(sentences: readonly Sentence[]): TimeOfDay | null {
  for (const s of sentences) {
    if ((s.type === 'GGA' || s.type === 'RMC' || s.type === 'GLL' || s.type === 'GNS') && s.time) return s.time;
  }
  return null;
}

/** Satellites listed as used across the epoch's GSAs (one per constellation on NMEA 4.10 receivers). */
function satellitesUsed(gsas: readonly Gsa[]): number {
  const seen = new Set<string>();
  for (const g of gsas) for (const prn of g.prns) seen.add(`${g.systemId ?? g.talker}:${prn}`);
  return seen.size;
}

function maxOf(values: ReadonlyArray<number | null>): number | null {
  let best: number | null = null;
  for (const v of values) if (v !== null && (best === null || v > best)) best = v;
  return best;
}

/**
 * The UTC instant of the epoch: a valid RMC's date with the epoch's time of day; else a ZDA's
 * date, placing the time of day within 12 h of the ZDA instant (its clock may run a little ahead,
 * and midnight may fall between them); else the time of day within 12 h of the last dated epoch.
 */
function resolveTime(tod: TimeOfDay | null, rmcs: readonly Rmc[], zdas: ReadonlyArray<{ time: TimeOfDay | null; date: CalendarDate | null }>, context: EpochContext): string | null {
  if (tod === null) return null;
  let instant: number | null = null;
  const rmc = rmcs.find((r) => rmcValid(r) && r.date !== null && r.time !== null);
  if (rmc?.date && rmc.time) {
    instant = dayStart(rmc.date) + rmc.time.msOfDay;
    if (rmc.time.msOfDay !== tod.msOfDay) instant = nearest(tod.msOfDay, instant);
  } else {
    const zda = zdas.find((z) => z.date !== null && z.time !== null);
    if (zda?.date && zda.time) instant = nearest(tod.msOfDay, dayStart(zda.date) + zda.time.msOfDay);
    else if (context.lastInstantMs !== null) instant = nearest(tod.msOfDay, context.lastInstantMs);
  }
  if (instant === null) return null;
  context.lastInstantMs = instant;
  return new Date(instant).toISOString();
}

function dayStart(d: CalendarDate): number {
  return Date.UTC(d.year, d.month - 1, d.day);
}

/** The instant with time of day `msOfDay` closest to `reference`. */
function nearest(msOfDay: number, reference: number): number {
  const base = Math.floor(reference / DAY_MS) * DAY_MS + msOfDay;
  const candidates = [base - DAY_MS, base, base + DAY_MS];
  return candidates.reduce((a, b) => (Math.abs(b - reference) < Math.abs(a - reference) ? b : a));
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
