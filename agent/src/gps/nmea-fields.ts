/** Field decoders shared by the sentence decoders: strict, return null for empty or malformed input, never throw. */

export interface TimeOfDay {
  /** Milliseconds since 00:00:00 UTC (sub-millisecond digits are truncated). */
  msOfDay: number;
  /** `hh:mm:ss.sss` */
  text: string;
}

export interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)$/;
const HHMMSS = /^(\d{2})(\d{2})(\d{2})(?:\.(\d*))?$/;
const COORD = /^(\d+)(\.\d+)?$/;

export function num(field: string | undefined): number | null {
  if (field === undefined) return null;
  const t = field.trim();
  if (!NUMBER.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

export function int(field: string | undefined): number | null {
  const n = num(field);
  return n !== null && Number.isInteger(n) ? n : null;
}

/** `hhmmss`, `hhmmss.s…`; null when empty or out of range. */
export function timeOfDay(field: string | undefined): TimeOfDay | null {
  const m = HHMMSS.exec(field ?? '');
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  const s = Number(m[3]);
  if (h > 23 || min > 59 || s > 60) return null;
  const ms = Math.floor(Number(`0.${m[4] || '0'}`) * 1000 + 1e-6);
  const msOfDay = ((h * 60 + min) * 60 + s) * 1000 + ms;
  const text = `${m[1]}:${m[2]}:${m[3]}.${String(ms).padStart(3, '0')}`;
  return { msOfDay, text };
}

/** RMC `ddmmyy`. Two-digit years 80–99 are 1980–1999 (GPS began in 1980), 00–79 are 2000–2079, as gpsd. */
export function ddmmyy(field: string | undefined): CalendarDate | null {
  const m = /^(\d{2})(\d{2})(\d{2})$/.exec(field ?? '');
  if (!m) return null;
  const yy = Number(m[3]);
  return calendarDate(yy < 80 ? 2000 + yy : 1900 + yy, Number(m[2]), Number(m[1]));
}

/** A real calendar day, years 1980–2199; null otherwise. */
export function calendarDate(year: number | null, month: number | null, day: number | null): CalendarDate | null {
  if (year === null || month === null || day === null) return null;
  if (year < 1980 || year > 2199 || month < 1 || month > 12 || day < 1) return null;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= last ? { year, month, day } : null;
}

/**
 * NMEA `(d)ddmm.mmmm` with its hemisphere letter → signed degrees. Null when either field is empty,
 * the hemisphere is not one of the two allowed letters, the minutes are ≥ 60 or the result is out
 * of range (some receivers send `36000.0000,N` while they have no fix).
 */
export function coordinate(value: string | undefined, hemisphere: string | undefined, axis: 'lat' | 'lon'): number | null {
  const m = COORD.exec(value ?? '');
  if (!m) return null;
  const [pos, neg] = axis === 'lat' ? ['N', 'S'] : ['E', 'W'];
  if (hemisphere !== pos && hemisphere !== neg) return null;
  const whole = Number(m[1]);
  const degrees = Math.floor(whole / 100);
  const minutes = whole - degrees * 100 + (m[2] ? Number(m[2]) : 0);
  if (minutes >= 60) return null;
  const deg = degrees + minutes / 60;
  if (deg > (axis === 'lat' ? 90 : 180)) return null;
  return hemisphere === neg ? -deg : deg;
}

export function letter(field: string | undefined): string | null {
  const t = (field ?? '').trim();
  return t.length > 0 ? t : null;
}
