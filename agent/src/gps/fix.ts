/**
 * What every GPS source produces: one `Fix` per receiver epoch (one UTC time of fix).
 *
 * `mode` follows gpsd's TPV `mode`: 1 = no fix, 2 = 2D, 3 = 3D (0 = unknown, only ever passed on
 * from gpsd). Position, altitude and motion fields are null when the epoch did not carry them, or
 * carried them flagged invalid; lat/lon are set exactly when mode ≥ 2.
 */
export type FixMode = 0 | 1 | 2 | 3;

export type FixSource = 'nmea' | 'gpsd';

export interface Fix {
  /**
   * UTC time of the fix, ISO 8601 with milliseconds (`2026-11-22T08:00:58.120Z`). The date comes
   * from RMC or ZDA; GGA, GLL and GNS carry only a time of day, so an epoch made of those alone
   * takes the date of the last RMC/ZDA seen (rolled over at midnight). Before any date has been
   * seen it is **null** — the same as gpsd, which sends a TPV without `time` then. RMC time and
   * date flagged invalid (status V) are not used: receivers send stale or bogus ones while they
   * have no fix (gpsd ignores them for the same reason).
   */
  time: string | null;
  /** UTC time of day from the sentences, `hh:mm:ss.sss`, present even when `time` is null. */
  timeOfDay: string | null;
  /** WGS84 degrees, north positive; null without a fix. */
  lat: number | null;
  /** WGS84 degrees, east positive; null without a fix. */
  lon: number | null;
  /** Altitude above mean sea level (GGA/GNS), metres. */
  altM: number | null;
  mode: FixMode;
  /** Satellites used in the solution (GGA/GNS, else the GSA lists). */
  sats: number | null;
  hdop: number | null;
  speedKmh: number | null;
  /** Course over ground, degrees true. */
  courseDeg: number | null;
  source: FixSource;
  /**
   * Monotonic milliseconds (performance.now() of the reading process) when the first byte of this
   * epoch arrived, so time can be related to the local clock even though the fix is emitted at the
   * end of its epoch. Null when the fix was not read live (a log parsed as fast as possible).
   */
  receivedAtMono: number | null;
}

/** The fields `roadwatch gps --json` prints, in this order. */
export const FIX_JSON_FIELDS = ['time', 'lat', 'lon', 'altM', 'mode', 'sats', 'hdop', 'speedKmh', 'courseDeg'] as const;

export type FixJson = Pick<Fix, (typeof FIX_JSON_FIELDS)[number]>;

export function fixJson(fix: Fix): FixJson {
  return {
    time: fix.time,
    lat: fix.lat,
    lon: fix.lon,
    altM: fix.altM,
    mode: fix.mode,
    sats: fix.sats,
    hdop: fix.hdop,
    speedKmh: fix.speedKmh,
    courseDeg: fix.courseDeg,
  };
}

/** A usable position: 2D or 3D with coordinates. */
export function hasPosition(fix: Fix): fix is Fix & { lat: number; lon: number } {
  return fix.mode >= 2 && fix.lat !== null && fix.lon !== null;
}
