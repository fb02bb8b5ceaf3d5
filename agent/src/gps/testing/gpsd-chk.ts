import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Fix } from '../fix.js';
import { decodeSentence, type SentenceType } from '../nmea-decode.js';
import { NmeaReader, type NmeaStats } from '../nmea-reader.js';
import { frameLine } from '../nmea-sentence.js';

/** gpsd's TPV report, as far as the comparison needs it. */
export interface Tpv {
  mode: number;
  time?: string;
  lat?: number;
  lon?: number;
  /**
   * Time of day (`hh:mm:ss.sss`) of the last timed sentence (GGA/RMC/GLL/GNS) gpsd echoed before
   * this report: the epoch the report was triggered in. Added here, not part of gpsd's JSON.
   */
  epochTod?: string;
}

/**
 * The corpus folder: `../shared/corpus/nmea` beside the repository root (on CI and here), or
 * `ROADWATCH_NMEA_CORPUS`. Throws with what to do when it is missing.
 */
export function corpusDir(): string {
  const fromEnv = process.env.ROADWATCH_NMEA_CORPUS;
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
  const dir = fromEnv ? resolve(fromEnv) : resolve(repoRoot, '../shared/corpus/nmea');
  if (!existsSync(dir)) {
    throw new Error(
      `NMEA corpus not found at ${dir} — it lives in ../shared/corpus/nmea beside the repository root (gpsd's test logs); set ROADWATCH_NMEA_CORPUS to use another folder`,
    );
  }
  return dir;
}

/**
 * The TPV reports in a gpsd `.chk` file, in order, each tagged with the epoch it was triggered in
 * (the non-JSON lines are the sentences gpsd accepted, echoed).
 */
export function readTpvs(file: string): Tpv[] {
  const out: Tpv[] = [];
  let epochTod: string | undefined;
  for (const line of readFileSync(file, 'latin1').split(/\r?\n/)) {
    if (!line.startsWith('{')) {
      for (const f of frameLine(line)) {
        if (f.kind !== 'sentence' || !['GGA', 'RMC', 'GLL', 'GNS'].includes(f.type)) continue;
        const s = decodeSentence(f.talker, f.type as SentenceType, f.fields);
        if (s && 'time' in s && s.time) epochTod = s.time.text;
      }
      continue;
    }
    let report: unknown;
    try {
      report = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof report === 'object' && report !== null && (report as { class?: unknown }).class === 'TPV') {
      out.push({ ...(report as Tpv), ...(epochTod === undefined ? {} : { epochTod }) });
    }
  }
  return out;
}

/** Parses a whole log as fast as possible. */
export function parseLog(file: string): { fixes: Fix[]; stats: NmeaStats } {
  const reader = new NmeaReader({ commentPrefix: '#' });
  const fixes = [...reader.push(readFileSync(file)), ...reader.end()];
  return { fixes, stats: reader.stats() };
}

export interface EpochComparison {
  /** How gpsd's report was matched to our fix: by full UTC time, or (gpsd had no date) by time of day. */
  by: 'time' | 'time-of-day';
  key: string;
  gpsd: Tpv;
  ours: Fix | undefined;
  problems: string[];
}

/** gpsd reported a later epoch's sentence under this (older) time: not an answer for either epoch. */
export function isCarryOver(t: Tpv): boolean {
  return t.time !== undefined && t.epochTod !== undefined && t.time.slice(11, 23) !== t.epochTod;
}

/**
 * Compares per epoch. gpsd may report an epoch several times while its sentences arrive; its
 * answer for the epoch is the *last* TPV with that epoch's time (it has seen all the sentences).
 *
 * - TPVs with `time`: matched to our fix with the same UTC time. Checked: a fix with that time
 *   exists, the mode is equal, and with mode ≥ 2 lat/lon agree to within `tolerance` degrees.
 *   Carry-overs (`isCarryOver`) are skipped: a sentence of the next epoch that sets no time
 *   (RMC status V) makes gpsd report that epoch's no-fix under the previous epoch's time.
 * - TPVs without `time` (gpsd had no date yet — it takes dates only from valid RMCs and ZDAs), in
 *   epochs with no timed TPV: matched by the time of day of the epoch they were reported in (the
 *   last GGA/RMC/GLL/GNS time gpsd echoed before them) to our fix with that time of day; mode
 *   (and lat/lon with mode ≥ 2) checked the same way. Untimed TPVs before the first timed sentence
 *   cannot be matched at all.
 */
export function compareEpochs(tpvs: readonly Tpv[], fixes: readonly Fix[], tolerance = 1e-6): EpochComparison[] {
  const byTime = new Map<string, Tpv>();
  const byTod = new Map<string, Tpv>();
  for (const t of tpvs) {
    if (t.time !== undefined) {
      if (!isCarryOver(t)) byTime.set(t.time, t);
    } else if (t.epochTod !== undefined) byTod.set(t.epochTod, t);
  }
  // An epoch with a timed report is compared by time; its untimed reports were partial.
  for (const t of byTime.values()) byTod.delete(t.time?.slice(11, 23) ?? '');
  const oursByTime = new Map<string, Fix>();
  const oursByTod = new Map<string, Fix>();
  for (const f of fixes) {
    if (f.time !== null) oursByTime.set(f.time, f);
    if (f.timeOfDay !== null) oursByTod.set(f.timeOfDay, f);
  }
  const out: EpochComparison[] = [];
  for (const [key, gpsd] of byTime) out.push({ by: 'time', key, gpsd, ours: oursByTime.get(key), problems: problemsOf(gpsd, oursByTime.get(key), tolerance) });
  for (const [key, gpsd] of byTod) out.push({ by: 'time-of-day', key, gpsd, ours: oursByTod.get(key), problems: problemsOf(gpsd, oursByTod.get(key), tolerance) });
  return out;
}

function problemsOf(gpsd: Tpv, fix: Fix | undefined, tolerance: number): string[] {
  if (!fix) return ['no fix for this epoch'];
  const problems: string[] = [];
  if (fix.mode !== gpsd.mode) problems.push(`mode ${fix.mode} ≠ gpsd ${gpsd.mode}`);
  if (gpsd.mode >= 2 && fix.mode >= 2) {
    if (fix.lat === null || gpsd.lat === undefined || Math.abs(fix.lat - gpsd.lat) > tolerance) problems.push(`lat ${fix.lat} ≠ gpsd ${gpsd.lat}`);
    if (fix.lon === null || gpsd.lon === undefined || Math.abs(fix.lon - gpsd.lon) > tolerance) problems.push(`lon ${fix.lon} ≠ gpsd ${gpsd.lon}`);
  }
  return problems;
}

/** How many sentences gpsd accepted: the echoed (non-JSON) lines of a `.chk` that hold a sentence. */
export function echoedSentences(file: string): number {
  return readFileSync(file, 'latin1')
    .split(/\r?\n/)
    .filter((line) => !line.startsWith('{') && line.includes('$')).length;
}
