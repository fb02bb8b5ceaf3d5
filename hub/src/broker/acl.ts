import { DEVICE_PUBLISH_CHANNELS, DEVICE_SUBSCRIBE_CHANNELS, parseDeviceTopic, type DeviceChannel } from '@roadwatch/shared';

export type AclDecision = { allowed: true; channel: DeviceChannel } | { allowed: false; reason: string };

/**
 * A device publishes only to its own `events` and `status` topics. Wildcards never parse as a
 * device topic, so they are denied too.
 */
export function canPublish(clientId: string, topic: string): AclDecision {
  return decide(clientId, topic, DEVICE_PUBLISH_CHANNELS, 'publish to');
}

/** A device subscribes only to its own `acks` and `commands` topics, by exact name (no wildcards, no `$share`). */
export function canSubscribe(clientId: string, topicFilter: string): AclDecision {
  return decide(clientId, topicFilter, DEVICE_SUBSCRIBE_CHANNELS, 'subscribe to');
}

function decide(clientId: string, topic: string, channels: readonly DeviceChannel[], verb: string): AclDecision {
  const parsed = parseDeviceTopic(topic);
  if (!parsed) return { allowed: false, reason: `may not ${verb} ${topic}: not a roadwatch device topic` };
  if (parsed.deviceId !== clientId) return { allowed: false, reason: `may not ${verb} ${topic}: it belongs to device ${parsed.deviceId}` };
  if (!channels.includes(parsed.channel)) return { allowed: false, reason: `may not ${verb} its own ${parsed.channel} channel` };
  return { allowed: true, channel: parsed.channel };
}
