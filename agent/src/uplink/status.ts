import { PROTOCOL_VERSION, StatusSchema, type Status } from '@roadwatch/shared';
import type { OutboxStats } from '../outbox/outbox.js';

/** The retained `online` status: queue health as the hub and fleet managers see it. */
export function buildOnlineStatus(stats: OutboxStats, now: number, agentVersion?: string): Status {
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
  return StatusSchema.parse(status);
}
