import { calendarDate, coordinate, ddmmyy, int, letter, num, timeOfDay, type CalendarDate, type TimeOfDay } from './nmea-fields.js';

/**
 * Typed decoders for the sentence types a fix is made of. Talker-agnostic: `GPGGA`, `GNGGA`,
 * `GLGGA`, `GAGGA`, `GBGGA`/`BDGGA`, `QZGGA` (and any other talker) decode the same way; the talker
 * is kept so the assembler can tell constellations apart. Empty or malformed fields become null.
 */

export const SUPPORTED_TYPES = ['GGA', 'RMC', 'VTG', 'GSA', 'GSV', 'GLL', 'ZDA', 'GNS'] as const;
export type SentenceType = (typeof SUPPORTED_TYPES)[number];

/** Talkers named in the design; others still decode (e.g. `GI` NavIC, `GQ` QZSS). */
export const KNOWN_TALKERS: Readonly<Record<string, string>> = {
  GP: 'GPS',
  GN: 'multi-GNSS',
  GL: 'GLONASS',
  GA: 'Galileo',
  GB: 'BeiDou',
  BD: 'BeiDou',
  QZ: 'QZSS',
  GQ: 'QZSS',
  GI: 'NavIC',
};

interface Base {
  talker: string;
}

export interface Gga extends Base {
  type: 'GGA';
  time: TimeOfDay | null;
  lat: number | null;
  lon: number | null;
  /** 0 invalid, 1 GPS, 2 DGPS, 3 PPS, 4 RTK fixed, 5 RTK float, 6 estimated, 7 manual, 8 simulator. */
  quality: number | null;
  sats: number | null;
  hdop: number | null;
  altM: number | null;
  geoidSepM: number | null;
}

export interface Rmc extends Base {
  type: 'RMC';
  time: TimeOfDay | null;
  /** A valid, D differential (some receivers), V invalid. */
  status: string | null;
  lat: number | null;
  lon: number | null;
  speedKn: number | null;
  courseDeg: number | null;
  date: CalendarDate | null;
  /** NMEA 2.3 mode: A autonomous, D differential, E estimated, N not valid, S simulator, … */
  faaMode: string | null;
}

export interface Vtg extends Base {
  type: 'VTG';
  courseDeg: number | null;
  speedKn: number | null;
  speedKmh: number | null;
  faaMode: string | null;
}

export interface Gsa extends Base {
  type: 'GSA';
  /** 1 no fix, 2 2D, 3 3D. */
  fixMode: number | null;
  prns: number[];
  pdop: number | null;
  hdop: number | null;
  vdop: number | null;
  /** NMEA 4.10 GNSS system id (1 GPS, 2 GLONASS, 3 Galileo, 4 BeiDou, 5 QZSS, 6 NavIC). */
  systemId: number | null;
}

export interface GsvSatellite {
  prn: number;
  elevationDeg: number | null;
  azimuthDeg: number | null;
  snrDb: number | null;
}

export interface Gsv extends Base {
  type: 'GSV';
  total: number | null;
  index: number | null;
  inView: number | null;
  satellites: GsvSatellite[];
  signalId: number | null;
}

export interface Gll extends Base {
  type: 'GLL';
  lat: number | null;
  lon: number | null;
  time: TimeOfDay | null;
  status: string | null;
  faaMode: string | null;
}

export interface Zda extends Base {
  type: 'ZDA';
  time: TimeOfDay | null;
  date: CalendarDate | null;
}

export interface Gns extends Base {
  type: 'GNS';
  time: TimeOfDay | null;
  lat: number | null;
  lon: number | null;
  /** One mode letter per constellation (GPS, GLONASS, Galileo, BeiDou, QZSS, NavIC); N = not valid. */
  modes: string | null;
  sats: number | null;
  hdop: number | null;
  altM: number | null;
  geoidSepM: number | null;
}

export type Sentence = Gga | Rmc | Vtg | Gsa | Gsv | Gll | Zda | Gns;

/** Minimum data fields (after the address) for each type; shorter sentences are malformed. */
const MIN_FIELDS: Record<SentenceType, number> = { GGA: 9, RMC: 9, VTG: 8, GSA: 17, GSV: 3, GLL: 4, ZDA: 4, GNS: 9 };

export function isSupportedType(type: string): type is SentenceType {
  return (SUPPORTED_TYPES as readonly string[]).includes(type);
}

/** Decodes one checksum-verified sentence; null when it is too short to be what it says. */
export function decodeSentence(talker: string, type: SentenceType, f: readonly string[]): Sentence | null {
  if (f.length < MIN_FIELDS[type]) return null;
  switch (type) {
    case 'GGA':
      return {
        type,
        talker,
        time: timeOfDay(f[0]),
        lat: coordinate(f[1], f[2], 'lat'),
        lon: coordinate(f[3], f[4], 'lon'),
        quality: int(f[5]),
        sats: int(f[6]),
        hdop: dop(f[7]),
        altM: num(f[8]),
        geoidSepM: num(f[10]),
      };
    case 'RMC':
      return {
        type,
        talker,
        time: timeOfDay(f[0]),
        status: letter(f[1]),
        lat: coordinate(f[2], f[3], 'lat'),
        lon: coordinate(f[4], f[5], 'lon'),
        speedKn: num(f[6]),
        courseDeg: num(f[7]),
        date: ddmmyy(f[8]),
        faaMode: letter(f[11]),
      };
    case 'VTG':
      return { type, talker, courseDeg: num(f[0]), speedKn: num(f[4]), speedKmh: num(f[6]), faaMode: letter(f[8]) };
    case 'GSA': {
      const prns: number[] = [];
      for (let i = 2; i < 14; i++) {
        const prn = int(f[i]);
        if (prn !== null && prn > 0) prns.push(prn);
      }
      return {
        type,
        talker,
        fixMode: int(f[1]),
        prns,
        pdop: dop(f[14]),
        hdop: dop(f[15]),
        vdop: dop(f[16]),
        systemId: f.length > 17 ? int(f[17]) : null,
      };
    }
    case 'GSV': {
      const satellites: GsvSatellite[] = [];
      const blocks = Math.floor((f.length - 3) / 4);
      for (let b = 0; b < blocks; b++) {
        const at = 3 + b * 4;
        const prn = int(f[at]);
        if (prn === null || prn <= 0) continue;
        satellites.push({ prn, elevationDeg: num(f[at + 1]), azimuthDeg: num(f[at + 2]), snrDb: num(f[at + 3]) });
      }
      return {
        type,
        talker,
        total: int(f[0]),
        index: int(f[1]),
        inView: int(f[2]),
        satellites,
        signalId: (f.length - 3) % 4 === 1 ? int(f[f.length - 1]) : null,
      };
    }
    case 'GLL':
      return {
        type,
        talker,
        lat: coordinate(f[0], f[1], 'lat'),
        lon: coordinate(f[2], f[3], 'lon'),
        time: timeOfDay(f[4]),
        status: letter(f[5]),
        faaMode: letter(f[6]),
      };
    case 'ZDA':
      return { type, talker, time: timeOfDay(f[0]), date: calendarDate(int(f[3]), int(f[2]), int(f[1])) };
    case 'GNS':
      return {
        type,
        talker,
        time: timeOfDay(f[0]),
        lat: coordinate(f[1], f[2], 'lat'),
        lon: coordinate(f[3], f[4], 'lon'),
        modes: letter(f[5]),
        sats: int(f[6]),
        hdop: dop(f[7]),
        altM: num(f[8]),
        geoidSepM: num(f[9]),
      };
  }
}

/** A dilution of precision; 99.x is what several receivers send for "unknown" (gpsd ignores ≥ 99 too). */
function dop(field: string | undefined): number | null {
  const n = num(field);
  return n !== null && n > 0 && n < 99 ? n : null;
}
