// Words and numbers for people: damage classes, ages, times.

/** The RDD2022 classes of the shipped model (models/road-damage-tiny), with their colours on the map and in the chart. */
export const KNOWN_CLASSES: ReadonlyArray<{ code: string; name: string; color: string }> = [
  { code: 'D00', name: 'Longitudinal crack', color: '#1f5fa8' },
  { code: 'D10', name: 'Transverse crack', color: '#6a3d9a' },
  { code: 'D20', name: 'Alligator crack', color: '#a35200' },
  { code: 'D40', name: 'Pothole', color: '#b3001b' },
];
const OTHER_COLORS = ['#00695c', '#4e5d00', '#8a0067', '#37474f'];

export function className(code: string): string {
  return KNOWN_CLASSES.find((c) => c.code === code)?.name ?? code;
}

/** "D40 Pothole", or the code alone for a class the shipped model does not have. */
export function classLabel(code: string): string {
  const name = className(code);
  return name === code ? code : `${code} ${name}`;
}

export function classColor(code: string): string {
  const known = KNOWN_CLASSES.find((c) => c.code === code);
  if (known) return known.color;
  let hash = 0;
  for (const ch of code) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return OTHER_COLORS[hash % OTHER_COLORS.length]!;
}

/** "45 s ago", "12 min ago", "3 h ago", "2 d ago" (from `now`). */
export function age(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min ago`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h ago`;
}

/** Seconds as "42 s", "5 min", "3.2 h", "2.1 d". */
export function duration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const shortFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

/** Local date and time. */
export function dateTime(iso: string): string {
  return timeFormat.format(new Date(iso));
}

export function shortDateTime(iso: string): string {
  return shortFormat.format(new Date(iso));
}

export function percent(x: number): string {
  return `${Math.round(x * 100)} %`;
}

export function coordinates(lat: number, lon: number): string {
  return `${lat.toFixed(5)}, ${lon.toFixed(5)}`;
}

export const ALARM_TYPE_NAMES: Record<string, string> = {
  severe_damage: 'Severe damage',
  hotspot: 'Hotspot',
  device_offline: 'Vehicle offline',
  outbox_backlog: 'Outbox backlog',
  sensor_fault: 'Sensor fault',
};

export const ALARM_STATUS_NAMES: Record<string, string> = {
  active_unack: 'Active, not acknowledged',
  active_ack: 'Acknowledged',
  cleared: 'Cleared',
};
