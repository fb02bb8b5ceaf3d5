// NMEA 0183 for a simulated drive: GGA, GSA, RMC and VTG per epoch (the order a u-blox receiver sends
// them), CRLF line ends, valid checksums. The antenna is the vehicle position.
import type { GpsEpoch } from './simulate.js';

export interface NmeaOptions {
  /** `GN` (multi-constellation, default) or `GP` (GPS only). */
  talker?: 'GN' | 'GP';
  /** Include GSA (DOPs and satellites used). Default true. */
  gsa?: boolean;
  /** Include VTG (course and speed). Default true. */
  vtg?: boolean;
  /** Antenna altitude above mean sea level. Default 12.0 m. */
  altM?: number;
}

const KNOTS_PER_MPS = 3600 / 1852;
const SATELLITES = ['02', '05', '07', '09', '13', '16', '20', '26', '29', '30'];
const HDOP = '0.8';

/** The whole log: one block of sentences per epoch. */
export function writeNmea(epochs: readonly GpsEpoch[], options: NmeaOptions = {}): string {
  return epochs.map((epoch) => nmeaEpoch(epoch, options)).join('');
}

/** One epoch's sentences, each `$…*hh\r\n`. */
export function nmeaEpoch(epoch: GpsEpoch, options: NmeaOptions = {}): string {
  const t = options.talker ?? 'GN';
  const at = new Date(epoch.utcMs);
  const time = hhmmss(at);
  const [lat, ns] = nmeaCoord(epoch.lat, 'lat');
  const [lon, ew] = nmeaCoord(epoch.lon, 'lon');
  const knots = (epoch.speedMps * KNOTS_PER_MPS).toFixed(3);
  const kmh = (epoch.speedMps * 3.6).toFixed(3);
  const course = epoch.courseDeg.toFixed(2);
  const alt = (options.altM ?? 12).toFixed(1);
  const lines = [`${t}GGA,${time},${lat},${ns},${lon},${ew},1,${String(SATELLITES.length).padStart(2, '0')},${HDOP},${alt},M,46.0,M,,`];
  if (options.gsa ?? true) lines.push(`${t}GSA,A,3,${SATELLITES.join(',')},,,1.4,${HDOP},1.1`);
  lines.push(`${t}RMC,${time},A,${lat},${ns},${lon},${ew},${knots},${course},${ddmmyy(at)},,,A`);
  if (options.vtg ?? true) lines.push(`${t}VTG,${course},T,,M,${knots},N,${kmh},K,A`);
  return lines.map((body) => `$${body}*${nmeaChecksum(body)}\r\n`).join('');
}

/** XOR of the characters between `$` and `*`, two upper-case hex digits. */
export function nmeaChecksum(body: string): string {
  let xor = 0;
  for (let i = 0; i < body.length; i++) xor ^= body.charCodeAt(i);
  return xor.toString(16).toUpperCase().padStart(2, '0');
}

/** `ddmm.mmmmm` / `dddmm.mmmmm` (5 decimals of a minute: 1.9 cm) and the hemisphere letter. */
export function nmeaCoord(value: number, axis: 'lat' | 'lon'): [string, string] {
  const hemisphere = axis === 'lat' ? (value < 0 ? 'S' : 'N') : value < 0 ? 'W' : 'E';
  // Round in whole 1e-5 minutes first so 59.999996' carries into the degrees instead of printing 60.00000.
  const units = Math.round(Math.abs(value) * 60 * 100_000);
  const deg = Math.floor(units / (60 * 100_000));
  const min = (units - deg * 60 * 100_000) / 100_000;
  return [`${String(deg).padStart(axis === 'lat' ? 2 : 3, '0')}${min.toFixed(5).padStart(8, '0')}`, hemisphere];
}

/** `hhmmss.ss` (UTC). */
function hhmmss(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}.${p(Math.round(d.getUTCMilliseconds() / 10))}`;
}

/** `ddmmyy` (UTC). */
function ddmmyy(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}${p(d.getUTCMonth() + 1)}${p(d.getUTCFullYear() % 100)}`;
}
