import type { Status } from '@roadwatch/shared';
import { cellToLatLng } from 'h3-js';
import type { AlarmsConfig } from '../config/schema.js';
import type { AlarmSeverity, AlarmType, RaiseAlarmInput } from './alarm-types.js';
import { cellOf } from './geo.js';
import type { DetectionRow } from './ingest-sql.js';

/**
 * Pure rule conditions: from stored facts (events, rollup figures, the last status) to the alarms
 * that should be open. Messages and details depend on those facts only — never on "now" — so
 * evaluating a rule twice yields the same alarm content and raising it again changes nothing.
 */

export const RULE_SEVERITY: Record<AlarmType, AlarmSeverity> = {
  severe_damage: 'critical',
  hotspot: 'major',
  sensor_fault: 'major',
  outbox_backlog: 'minor',
  device_offline: 'warning',
};

/** `by` of alarms the rules clear themselves. */
export const RULES_ACTOR = 'system:rules';

export interface SevereCandidate {
  eventId: string;
  /** ISO time of the event (UTC, to the millisecond: comparable as text). */
  ts: string;
  source: string;
  alarm: RaiseAlarmInput;
}

/** severe_damage for one event: class in `classes` and confidence ≥ minConfidence; source = its H3 cell at severe.resolution. */
export function severeCandidate(deviceId: string, e: DetectionRow, cfg: AlarmsConfig['severe']): SevereCandidate | null {
  if (!cfg.classes.includes(e.class) || !(e.confidence >= cfg.minConfidence)) return null;
  const source = cellOf(e.lat, e.lon, cfg.resolution);
  return {
    eventId: e.event_id,
    ts: e.ts,
    source,
    alarm: {
      type: 'severe_damage',
      source,
      deviceId,
      severity: RULE_SEVERITY.severe_damage,
      message: `${e.class} (confidence ${round(e.confidence, 2)}) at ${e.lat}, ${e.lon}, reported by ${deviceId} at ${e.ts}`,
      details: { eventId: e.event_id, deviceId, class: e.class, confidence: e.confidence, lat: e.lat, lon: e.lon, ts: e.ts, cell: source, resolution: cfg.resolution },
    },
  };
}

export interface CellSupport {
  cell: string;
  events: number;
  devices: number;
}

export function hotspotAlarm(s: CellSupport, resolution: number, days: number): RaiseAlarmInput {
  const [lat, lon] = cellToLatLng(s.cell);
  return {
    type: 'hotspot',
    source: s.cell,
    severity: RULE_SEVERITY.hotspot,
    deviceId: null,
    message: `hotspot: ${s.events} events from ${s.devices} vehicles in H3 cell ${s.cell} (resolution ${resolution}) within ${days} days`,
    details: { cell: s.cell, resolution, events: s.events, devices: s.devices, days, center: [round(lat, 6), round(lon, 6)] },
  };
}

/** What the database knows about one device, as the device rules read it. */
export interface DeviceFacts {
  deviceId: string;
  /** Last batch of events (devices.last_seen_at). */
  lastSeenAt: Date | null;
  status: Status | null;
  statusAt: Date | null;
  sensorFaultSince: Record<string, string>;
}

/**
 * Per rule: an alarm to raise, `null` = the condition is gone (clear an open alarm), `undefined` =
 * unknown (leave an open alarm as it is).
 */
export interface DeviceVerdict {
  offline: RaiseAlarmInput | null | undefined;
  backlog: RaiseAlarmInput | null | undefined;
  /** sensor → alarm or null (clear); sensors not listed are left as they are. */
  sensors: Map<string, RaiseAlarmInput | null>;
}

export function sensorSource(deviceId: string, sensor: string): string {
  return `${deviceId}/${sensor}`;
}

export function evaluateDevice(f: DeviceFacts, cfg: AlarmsConfig, now: Date, startedAt: Date): DeviceVerdict {
  return { offline: offlineVerdict(f, cfg, now, startedAt), backlog: backlogVerdict(f, cfg), sensors: sensorVerdicts(f, cfg, now) };
}

/**
 * Offline when the last status is the last will / `offline` and no events came after it, or when
 * nothing (status or events) came for offlineAfterS — counted from the hub's start at the earliest,
 * so a hub that was down does not declare the whole fleet offline the moment it comes back.
 */
function offlineVerdict(f: DeviceFacts, cfg: AlarmsConfig, now: Date, startedAt: Date): RaiseAlarmInput | null | undefined {
  const base = { type: 'device_offline' as const, source: f.deviceId, deviceId: f.deviceId, severity: RULE_SEVERITY.device_offline };
  const lastSeen = f.lastSeenAt?.getTime() ?? null;
  if (f.status?.state === 'offline' && f.statusAt && (lastSeen === null || lastSeen <= f.statusAt.getTime())) {
    const since = f.statusAt.toISOString();
    return { ...base, message: `${f.deviceId} went offline at ${since} (it disconnected: last will or shutdown)`, details: { reason: 'disconnected', since } };
  }
  const statusActivity = f.status?.state === 'online' && f.statusAt ? f.statusAt.getTime() : null;
  const activity = Math.max(lastSeen ?? -Infinity, statusActivity ?? -Infinity);
  if (activity === -Infinity) return f.status ? null : undefined; // never heard from: nothing to say
  if (now.getTime() - Math.max(activity, startedAt.getTime()) > cfg.offlineAfterS * 1000) {
    const since = new Date(activity).toISOString();
    return { ...base, message: `${f.deviceId} has sent no status and no events since ${since} (more than ${cfg.offlineAfterS} s)`, details: { reason: 'silent', since } };
  }
  return null;
}

/** From an online status that reports its queue: deeper than maxQueueDepth or older than maxOldestAgeS. */
function backlogVerdict(f: DeviceFacts, cfg: AlarmsConfig): RaiseAlarmInput | null | undefined {
  const s = f.status;
  if (!s || s.state !== 'online' || (s.queueDepth === undefined && (s.oldestUnsyncedAgeS === undefined || s.oldestUnsyncedAgeS === null))) return undefined;
  const depth = s.queueDepth ?? 0;
  const age = s.oldestUnsyncedAgeS ?? 0;
  const { maxQueueDepth, maxOldestAgeS } = cfg.backlog;
  const reasons = [
    ...(depth > maxQueueDepth ? [`${depth} events waiting (limit ${maxQueueDepth})`] : []),
    ...(age > maxOldestAgeS ? [`oldest unsynced event ${Math.round(age)} s old (limit ${maxOldestAgeS} s)`] : []),
  ];
  if (!reasons.length) return null;
  return {
    type: 'outbox_backlog',
    source: f.deviceId,
    deviceId: f.deviceId,
    severity: RULE_SEVERITY.outbox_backlog,
    message: `${f.deviceId} outbox backlog: ${reasons.join(', ')}`,
    details: { queueDepth: s.queueDepth ?? null, oldestUnsyncedAgeS: s.oldestUnsyncedAgeS ?? null, maxQueueDepth, maxOldestAgeS },
  };
}

/**
 * From an online status with a sensors map: a sensor in `fault` since longer than sensorFaultAfterS
 * raises; `ok`, `absent` or no longer listed clears; `degraded` (or a fault not yet old enough) leaves
 * an open alarm as it is. The status's fault lines about the sensor become the message.
 */
function sensorVerdicts(f: DeviceFacts, cfg: AlarmsConfig, now: Date): Map<string, RaiseAlarmInput | null> {
  const out = new Map<string, RaiseAlarmInput | null>();
  const s = f.status;
  if (!s || s.state !== 'online' || !s.sensors) return out;
  for (const [sensor, state] of Object.entries(s.sensors)) {
    if (state === 'ok' || state === 'absent') out.set(sensor, null);
    if (state !== 'fault') continue;
    const since = f.sensorFaultSince[sensor];
    if (!since || now.getTime() - Date.parse(since) < cfg.sensorFaultAfterS * 1000) continue;
    const lines = (s.faults ?? []).filter((l) => l.startsWith(`${sensor}:`) || l.startsWith(`${sensor} `));
    const faults = lines.length ? lines : (s.faults ?? []);
    out.set(sensor, {
      type: 'sensor_fault',
      source: sensorSource(f.deviceId, sensor),
      deviceId: f.deviceId,
      severity: RULE_SEVERITY.sensor_fault,
      message: `${f.deviceId} ${sensor} fault since ${since}${faults.length ? `: ${faults.join('; ')}` : ''}`,
      details: { sensor, since, faults },
    });
  }
  return out;
}

function round(x: number, digits: number): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}
