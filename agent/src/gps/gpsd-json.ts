import type { Fix, FixMode } from './fix.js';

/**
 * gpsd's JSON reports (https://gpsd.gitlab.io/gpsd/gpsd_json.html) → fixes. Pure. gpsd ≥ 3.20 sends
 * `altMSL`; older ones only `alt` (MSL too). `speed` is m/s. SKY gives the satellites used and HDOP;
 * gpsd < 3.23 has no `uSat`, so it is counted from `satellites[].used`.
 */
export interface GpsdTpv {
  class: 'TPV';
  mode?: number;
  time?: string;
  lat?: number;
  lon?: number;
  alt?: number;
  altMSL?: number;
  speed?: number;
  track?: number;
  device?: string;
}

export interface GpsdSky {
  class: 'SKY';
  hdop?: number;
  uSat?: number;
  nSat?: number;
  satellites?: Array<{ used?: boolean }>;
}

export type GpsdReport = GpsdTpv | GpsdSky | { class: 'DEVICES'; devices?: Array<{ path?: string }> } | { class: 'ERROR'; message?: string } | { class: string };

export interface SkySummary {
  sats: number | null;
  hdop: number | null;
}

/** One JSON line from gpsd; null when it is not JSON or has no `class`. */
export function parseGpsdLine(line: string): GpsdReport | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || typeof (value as { class?: unknown }).class !== 'string') return null;
  return value as GpsdReport;
}

export function skySummary(sky: GpsdSky): SkySummary {
  const used = typeof sky.uSat === 'number' ? sky.uSat : Array.isArray(sky.satellites) ? sky.satellites.filter((s) => s?.used === true).length : null;
  return { sats: used, hdop: finite(sky.hdop) };
}

export function tpvToFix(tpv: GpsdTpv, sky: SkySummary, receivedAtMono: number | null): Fix {
  const mode: FixMode = tpv.mode === 1 || tpv.mode === 2 || tpv.mode === 3 ? tpv.mode : 0;
  const time = typeof tpv.time === 'string' && !Number.isNaN(Date.parse(tpv.time)) ? new Date(tpv.time).toISOString() : null;
  const fixed = mode >= 2 && finite(tpv.lat) !== null && finite(tpv.lon) !== null;
  const speed = finite(tpv.speed);
  return {
    time,
    timeOfDay: time ? time.slice(11, 23) : null,
    lat: fixed ? (tpv.lat as number) : null,
    lon: fixed ? (tpv.lon as number) : null,
    altM: fixed && mode === 3 ? (finite(tpv.altMSL) ?? finite(tpv.alt)) : null,
    mode,
    sats: sky.sats,
    hdop: sky.hdop,
    speedKmh: fixed && speed !== null ? Math.round(speed * 3.6 * 1000) / 1000 : null,
    courseDeg: fixed ? finite(tpv.track) : null,
    source: 'gpsd',
    receivedAtMono,
  };
}

function finite(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
