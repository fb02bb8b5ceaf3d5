import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { UserError, allDevicesTopic } from '@roadwatch/shared';
import type { IClientOptions } from 'mqtt';
import type { HubConfig } from '../config/schema.js';

/** Room for the topic and packet header on top of the largest accepted payload (as the embedded broker). */
const FRAME_OVERHEAD_BYTES = 4096;
/** mqtt.js retries a lost or refused connection this often. */
export const RECONNECT_PERIOD_MS = 2_000;
const CONNECT_TIMEOUT_MS = 10_000;
/** The acks' connection notices a dead broker within about 1.5× this. */
const KEEPALIVE_S = 30;
/**
 * The consumer's PINGRESP arrives behind the batches the broker already sent (up to the receive
 * maximum), which wait for ingest slots: under a herd that took longer than 45 s, mqtt.js called the
 * broker dead, reconnected, and the session's batches came again. The acks' connection keeps the short
 * keepalive, and readiness needs both.
 */
const CONSUMER_KEEPALIVE_S = 180;

export type ExternalMqttConfig = Pick<
  HubConfig['mqtt'],
  'url' | 'username' | 'password' | 'clientId' | 'shareGroup' | 'sessionExpiryS' | 'caFile' | 'maxPayloadBytes' | 'ingestConcurrency' | 'tlsCertFile'
>;

export interface ExternalConnection {
  url: string;
  /** The URL with any password masked, for logs and diagnostics. */
  safeUrl: string;
  clientId: string;
  /** `$share/<group>/roadwatch/v1/devices/+/events` and `…/status`. */
  subscriptions: string[];
  options: IClientOptions;
  /** The second connection, which only publishes the acks: `<clientId>-acks`, no subscriptions. */
  ackOptions: IClientOptions;
}

/**
 * The mqtt.js options of one hub replica (docs/SCALE-OUT.md):
 *
 * - MQTT 5, `clean: false` with a session expiry and a client id stable across restarts: batches
 *   that arrive while the replica restarts wait in its session on the broker, and QoS 1 messages
 *   it received but had not acknowledged are delivered again when it is back.
 * - `receiveMaximum` = mqtt.ingestConcurrency: the broker has at most that many unacknowledged
 *   messages on the way to this replica, so what waits for an ingest slot stays bounded.
 * - `maximumPacketSize`: the broker never forwards a payload larger than mqtt.maxPayloadBytes.
 * - Subscriptions are made (and their SUBACK checked) on every connect, not replayed by mqtt.js.
 * - Acks go out on a second connection (`ackOptions`). mqtt.js handles a connection's incoming packets
 *   one at a time, and a PUBLISH waiting for an ingest slot holds up everything behind it — the
 *   broker's PUBACKs for the hub's own acks too. Under a shift-change herd that left acks unconfirmed
 *   (the broker lets a client have only 20 unconfirmed QoS 1 publishes), then unsent: vehicles saw no
 *   acks for minutes and resent everything. The ack connection reads nothing but PUBACKs.
 */
export function externalConnection(
  config: ExternalMqttConfig,
  env: { hostname?: () => string; readFile?: (path: string) => Buffer } = {},
): ExternalConnection {
  if (!config.url) throw new Error('externalConnection needs mqtt.url');
  const clientId = config.clientId ?? defaultClientId((env.hostname ?? osHostname)());
  const options: IClientOptions = {
    protocolVersion: 5,
    clientId,
    clean: false,
    keepalive: CONSUMER_KEEPALIVE_S,
    connectTimeout: CONNECT_TIMEOUT_MS,
    reconnectPeriod: RECONNECT_PERIOD_MS,
    reconnectOnConnackError: true,
    resubscribe: false,
    queueQoSZero: false,
    properties: {
      sessionExpiryInterval: config.sessionExpiryS,
      receiveMaximum: config.ingestConcurrency,
      maximumPacketSize: config.maxPayloadBytes + FRAME_OVERHEAD_BYTES,
    },
  };
  if (config.username !== undefined) options.username = config.username;
  if (config.password !== undefined) options.password = config.password;
  if (config.caFile) options.ca = readCa(config.caFile, env.readFile ?? readFileSync);
  if (config.url.startsWith('mqtts://')) options.rejectUnauthorized = true;
  const subscriptions = (['events', 'status'] as const).map((channel) => `$share/${config.shareGroup}/${allDevicesTopic(channel)}`);
  const ackOptions: IClientOptions = { ...options, clientId: `${clientId}-acks`, keepalive: KEEPALIVE_S, properties: { sessionExpiryInterval: config.sessionExpiryS } };
  return { url: config.url, safeUrl: redactMqttUrl(config.url), clientId, subscriptions, options, ackOptions };
}

/** `roadwatch-hub-<hostname>`, reduced to the characters every broker accepts in a client id. */
export function defaultClientId(hostname: string): string {
  const host = hostname.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 100) || 'unknown';
  return `roadwatch-hub-${host}`;
}

export function redactMqttUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(unparseable mqtt.url)';
  }
}

function readCa(file: string, readFile: (path: string) => Buffer): Buffer {
  try {
    return readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'not found' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new UserError(`mqtt.caFile ${file}: ${why}`, "point ROADWATCH_HUB_MQTT_CA_FILE at the PEM CA that signed the external broker's certificate, readable by the hub's user");
  }
}
