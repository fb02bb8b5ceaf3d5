import { ALARM_SEVERITIES, ALARM_STATUSES, ALARM_TYPES } from '../db/schema.js';

export { ALARM_SEVERITIES, ALARM_STATUSES, ALARM_TYPES };
export type AlarmType = (typeof ALARM_TYPES)[number];
export type AlarmSeverity = (typeof ALARM_SEVERITIES)[number];
export type AlarmStatus = (typeof ALARM_STATUSES)[number];

/** The alarms the device rules raise from a device's status and activity (source: the device, or `<deviceId>/<sensor>`). */
export const DEVICE_ALARM_TYPES = ['device_offline', 'outbox_backlog', 'sensor_fault'] as const satisfies readonly AlarmType[];

export interface Alarm {
  id: number;
  type: AlarmType;
  /** What the alarm is about: an H3 cell (severe_damage, hotspot), a device id (device_offline, outbox_backlog) or `<deviceId>/<sensor>` (sensor_fault). */
  source: string;
  /** The device concerned (for severe_damage the last one that reported it; null for hotspot). */
  deviceId: string | null;
  severity: AlarmSeverity;
  status: AlarmStatus;
  message: string;
  details: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  /** When the rule last fired with new content while the alarm was open. */
  lastSeenAt: string;
  /** Times the rule fired while the alarm was open (1 when opened). */
  count: number;
  ackedAt: string | null;
  ackedBy: string | null;
  clearedAt: string | null;
  clearedBy: string | null;
}

export interface RaiseAlarmInput {
  type: AlarmType;
  source: string;
  severity: AlarmSeverity;
  message: string;
  details?: Record<string, unknown>;
  deviceId?: string | null;
}

/** `created`: a new open alarm; `refired`: the open one was updated (count + 1); `unchanged`: the open one already said this. */
export interface RaiseResult {
  alarm: Alarm;
  outcome: 'created' | 'refired' | 'unchanged';
}

export interface AlarmListQuery {
  /** 1–1000, default 100. */
  limit?: number | undefined;
  /** ≥ 0, default 0. */
  offset?: number | undefined;
  /** Only the newest alarm of each (type, source) — the current state — before the other filters apply. */
  latest?: boolean | undefined;
  status?: AlarmStatus | readonly AlarmStatus[] | undefined;
  severity?: AlarmSeverity | readonly AlarmSeverity[] | undefined;
  type?: AlarmType | readonly AlarmType[] | undefined;
  deviceId?: string | undefined;
}

export interface AlarmPage {
  /** Newest first (created_at, then id). */
  items: Alarm[];
  /** Alarms matching the filters, all pages together. */
  total: number;
  limit: number;
  offset: number;
}
