import { PROTOCOL_VERSION, StatusSchema, type DetectorStatus, type SensorState, type Status } from '@roadwatch/shared';
import type { OutboxStats } from '../outbox/outbox.js';

/** The retained `online` status: queue health as the hub and fleet managers see it. */
/** What the sensing side says of its sensors, for the status payload. */
export interface SensorReport {
  sensors: Record<string, SensorState>;
  faults: string[];
}

/** `detector`: the detector's p95 and frames a second while the camera pipeline runs (left out without one). */
export function buildOnlineStatus(stats: OutboxStats, now: number, agentVersion?: string, sensors?: SensorReport, detector?: DetectorStatus): Status {
  const status: Status = {
    v: PROTOCOL_VERSION,
    state: 'online',
    ts: new Date(now).toISOString(),
    queueDepth: stats.depth,
    queueBytes: stats.bytes,
    oldestUnsyncedAgeS: stats.oldestCreatedAt === null ? null : Math.max(0, Math.round((now - stats.oldestCreatedAt) / 1000)),
    lastAckAt: stats.lastAckAt === null ? null : new Date(stats.lastAckAt).toISOString(),
    evictedTotal: stats.evictedTotal,
  };
  if (agentVersion) status.agentVersion = agentVersion.slice(0, 64);
  if (sensors) {
    status.sensors = sensors.sensors;
    if (sensors.faults.length > 0) status.faults = sensors.faults.slice(0, 16).map((line) => (line.length > 500 ? `${line.slice(0, 499)}…` : line));
  }
  if (detector) status.detector = { p95Ms: detector.p95Ms, fps: detector.fps };
  return StatusSchema.parse(status);
}
