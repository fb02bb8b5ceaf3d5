import { DEVICE_ID_PATTERN } from './protocol.js';

export const TOPIC_ROOT = 'roadwatch/v1/devices';

export const DEVICE_CHANNELS = ['events', 'acks', 'status', 'commands'] as const;
export type DeviceChannel = (typeof DEVICE_CHANNELS)[number];

/** Channels a device may publish to (its own prefix only). */
export const DEVICE_PUBLISH_CHANNELS: readonly DeviceChannel[] = ['events', 'status'];
/** Channels a device may subscribe to (its own prefix only). */
export const DEVICE_SUBSCRIBE_CHANNELS: readonly DeviceChannel[] = ['acks', 'commands'];

export function deviceTopic(deviceId: string, channel: DeviceChannel): string {
  return `${TOPIC_ROOT}/${deviceId}/${channel}`;
}

/** Wildcard subscription the hub uses for one channel of every device. */
export function allDevicesTopic(channel: DeviceChannel): string {
  return `${TOPIC_ROOT}/+/${channel}`;
}

export interface ParsedTopic {
  deviceId: string;
  channel: DeviceChannel;
}

/** Parses `roadwatch/v1/devices/{id}/{channel}`; null for anything else (including wildcards). */
export function parseDeviceTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 5) return null;
  const [a, b, c, deviceId, channel] = parts;
  if (`${a}/${b}/${c}` !== TOPIC_ROOT || deviceId === undefined || channel === undefined) return null;
  if (!DEVICE_ID_PATTERN.test(deviceId)) return null;
  if (!(DEVICE_CHANNELS as readonly string[]).includes(channel)) return null;
  return { deviceId, channel: channel as DeviceChannel };
}
