import { withChecksum } from '../nmea-sentence.js';

export interface SampleEpoch {
  /** UTC instant of the epoch. */
  at: Date;
  lat: number;
  lon: number;
  fix?: boolean;
  altM?: number;
  sats?: number;
  speedKn?: number;
  courseDeg?: number;
  talker?: string;
}

/** NMEA `ddmm.mmmmm` / `dddmm.mmmmm` and hemisphere. */
export function nmeaCoord(value: number, axis: 'lat' | 'lon'): [string, string] {
  const abs = Math.abs(value);
  const deg = Math.floor(abs);
  const min = (abs - deg) * 60;
  const d = String(deg).padStart(axis === 'lat' ? 2 : 3, '0');
  const m = min.toFixed(5).padStart(8, '0');
  return [`${d}${m}`, axis === 'lat' ? (value < 0 ? 'S' : 'N') : value < 0 ? 'W' : 'E'];
}

function hhmmss(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}.${String(Math.floor(d.getUTCMilliseconds() / 10)).padStart(2, '0')}`;
}

function ddmmyy(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}${p(d.getUTCMonth() + 1)}${p(d.getUTCFullYear() % 100)}`;
}

/** GGA + GSA + RMC + VTG for one epoch, CRLF-terminated, valid checksums (a typical 1 Hz receiver). */
export function sampleEpoch(e: SampleEpoch): string {
  const t = e.talker ?? 'GN';
  const fix = e.fix ?? true;
  const [lat, ns] = nmeaCoord(e.lat, 'lat');
  const [lon, ew] = nmeaCoord(e.lon, 'lon');
  const sats = e.sats ?? 9;
  const speed = (e.speedKn ?? 0).toFixed(3);
  const course = (e.courseDeg ?? 0).toFixed(2);
  const lines = fix
    ? [
        `${t}GGA,${hhmmss(e.at)},${lat},${ns},${lon},${ew},1,${String(sats).padStart(2, '0')},0.9,${(e.altM ?? 12.5).toFixed(1)},M,46.0,M,,`,
        `${t}GSA,A,3,01,03,07,08,11,13,17,19,28,,,,1.6,0.9,1.3`,
        `${t}RMC,${hhmmss(e.at)},A,${lat},${ns},${lon},${ew},${speed},${course},${ddmmyy(e.at)},,,A`,
        `${t}VTG,${course},T,,M,${speed},N,${((e.speedKn ?? 0) * 1.852).toFixed(3)},K,A`,
      ]
    : [`${t}GGA,${hhmmss(e.at)},,,,,0,00,99.99,,,,,,`, `${t}GSA,A,1,,,,,,,,,,,,,99.99,99.99,99.99`, `${t}RMC,${hhmmss(e.at)},V,,,,,,,${ddmmyy(e.at)},,,N`, `${t}VTG,,T,,M,,N,,K,N`];
  return lines.map((l) => `${withChecksum(l)}\r\n`).join('');
}

/** A sequence of 1 Hz epochs moving north-east from a start point. */
export function sampleDrive(start: Date, count: number, opts: { lat?: number; lon?: number; fix?: boolean; stepS?: number } = {}): string {
  let out = '';
  for (let i = 0; i < count; i++) {
    out += sampleEpoch({
      at: new Date(start.getTime() + i * 1000 * (opts.stepS ?? 1)),
      lat: (opts.lat ?? 52.37021) + i * 0.0001,
      lon: (opts.lon ?? 4.89517) + i * 0.0001,
      fix: opts.fix ?? true,
      speedKn: 22.5,
      courseDeg: 45,
    });
  }
  return out;
}
