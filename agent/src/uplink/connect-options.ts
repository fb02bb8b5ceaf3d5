import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import { OFFLINE_STATUS, UserError, deviceTopic } from '@roadwatch/shared';
import type { AgentConfig } from '../config/schema.js';

/** Seconds mqtt.js waits for CONNACK before it gives up on an attempt. */
const CONNECT_TIMEOUT_MS = 15_000;

/**
 * mqtt.js options for one connection attempt. Reconnection is driven by MqttUplink (reconnectPeriod 0)
 * so the delay between attempts follows the jittered backoff.
 */
export function buildConnectOptions(config: AgentConfig, readFile: (path: string) => Buffer = readFileSync): IClientOptions {
  const options: IClientOptions = {
    clientId: config.deviceId,
    username: config.deviceId,
    password: config.deviceSecret,
    clean: false,
    protocolVersion: 4,
    keepalive: config.uplink.keepaliveS,
    reconnectPeriod: 0,
    connectTimeout: CONNECT_TIMEOUT_MS,
    queueQoSZero: false,
    will: {
      topic: deviceTopic(config.deviceId, 'status'),
      payload: Buffer.from(JSON.stringify(OFFLINE_STATUS)),
      qos: 1,
      retain: true,
    },
  };
  if (config.hubUrl.startsWith('mqtts://')) {
    options.rejectUnauthorized = config.uplink.rejectUnauthorized;
    if (config.uplink.caFile) options.ca = readCaFile(config.uplink.caFile, readFile);
  }
  return options;
}

function readCaFile(file: string, readFile: (path: string) => Buffer): Buffer {
  try {
    return readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const cause = code === 'ENOENT' ? 'not found' : code === 'EACCES' ? 'permission denied' : String(error);
    throw new UserError(
      `hub CA file ${file}: ${cause}`,
      'set uplink.caFile (ROADWATCH_HUB_CA_FILE) to the PEM file of the CA that signed the hub certificate, readable by the service user',
    );
  }
}
