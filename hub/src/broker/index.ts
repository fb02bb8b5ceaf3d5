import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AedesPublishPacket, type Client, type PublishPacket } from 'aedes';
import { UserError, deviceTopic, parseDeviceTopic, type Ack } from '@roadwatch/shared';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { HubConfig } from '../config/schema.js';
import type { BatchIngest, DeviceRegistry, StatusRecorder } from '../services/ports.js';
import { canPublish, canSubscribe } from './acl.js';
import { createAuthenticator } from './authenticate.js';
import { DeviceInbox } from './device-inbox.js';
import { FrameGuardedConnection } from './frame-guard.js';
import { listenMqtt } from './listen.js';
import { createBrokerMetrics, type BrokerMetrics } from './metrics.js';
import type { DeviceTransport, TransportStats } from './transport.js';

/** Room for the topic and packet header on top of the largest accepted payload. */
const FRAME_OVERHEAD_BYTES = 4096;

export interface MqttBrokerOptions {
  config: Pick<HubConfig, 'host' | 'mqttPort' | 'mqtt'>;
  services: { ingest: BatchIngest; devices: Pick<DeviceRegistry, 'verify'>; status: StatusRecorder };
  logger: Logger;
  registry: Registry;
}

/**
 * The hub's embedded MQTT broker (aedes over TCP, or TLS when a certificate is configured):
 * device authentication, ACL, and the device inbox from device topics to the ingest and status
 * services. Scale-out mode replaces it with `ExternalBroker` (docs/SCALE-OUT.md).
 */
export class MqttBroker implements DeviceTransport {
  readonly #options: MqttBrokerOptions;
  readonly #log: Logger;
  readonly #metrics: BrokerMetrics;
  readonly #inbox: DeviceInbox;
  #aedes: Aedes | null = null;
  #server: Server | null = null;
  #ready = false;
  #closing = false;

  constructor(options: MqttBrokerOptions) {
    this.#options = options;
    this.#log = options.logger.child({ component: 'mqtt' });
    this.#metrics = createBrokerMetrics(options.registry);
    const { maxPayloadBytes, ingestConcurrency } = options.config.mqtt;
    this.#inbox = new DeviceInbox({
      services: options.services,
      publishAck: (deviceId, ack) => this.#publishAck(deviceId, ack),
      maxPayloadBytes,
      concurrency: ingestConcurrency,
      logger: this.#log,
      metrics: this.#metrics,
    });
  }

  /** True while the broker is listening and accepting devices. */
  get ready(): boolean {
    return this.#ready;
  }

  /** For /health/diagnostics: listening, connected clients, batches being ingested now. */
  get stats(): TransportStats {
    return { listening: this.#ready, clients: this.#aedes?.connectedClients ?? 0, ingestInFlight: this.#inbox.inFlight };
  }

  async start(): Promise<{ port: number }> {
    if (this.#server) throw new Error('MqttBroker already started');
    const { config, services } = this.#options;
    const tls = readTlsFiles(config.mqtt.tlsCertFile, config.mqtt.tlsKeyFile);
    const aedes = await Aedes.createBroker({
      id: 'roadwatch-hub',
      maxClientsIdLength: 64,
      drainTimeout: 30_000,
      authenticate: createAuthenticator({ devices: services.devices, logger: this.#log, metrics: this.#metrics }),
      authorizePublish: (client, packet, callback) => callback(this.#authorizePublish(client, packet)),
      authorizeSubscribe: (client, subscription, callback) => {
        const decision = canSubscribe(client.id, subscription.topic);
        if (decision.allowed) return callback(null, subscription);
        this.#metrics.aclDenied.inc({ action: 'subscribe' });
        this.#log.warn({ deviceId: client.id, topic: subscription.topic, reason: decision.reason }, 'mqtt subscribe denied');
        callback(null, null); // SUBACK failure (0x80); the connection stays up
      },
      published: (packet, client, callback) => this.#onPublished(packet, client, callback),
    });
    aedes.on('clientReady', () => this.#metrics.clients.inc());
    aedes.on('clientDisconnect', () => this.#metrics.clients.dec());
    aedes.on('clientError', (client: Client, error: Error) => this.#log.debug({ deviceId: client.id, err: error.message }, 'mqtt client error'));
    aedes.on('connectionError', (_client: Client, error: Error) => this.#log.debug({ err: error.message }, 'mqtt connection error'));
    (aedes as unknown as NodeJS.EventEmitter).on('error', (error: Error) => this.#log.error({ err: error }, 'mqtt broker error'));

    const maxFrameBytes = config.mqtt.maxPayloadBytes + FRAME_OVERHEAD_BYTES;
    const onConnection = (socket: Socket): void => {
      socket.setNoDelay(true);
      const conn = new FrameGuardedConnection(socket, {
        maxFrameBytes,
        onViolation: (declared) => {
          this.#metrics.dropped.inc({ channel: 'any', reason: declared < 0 ? 'malformed_frame' : 'frame_too_large' });
          this.#log.warn(
            { remoteAddress: socket.remoteAddress, deviceId: (conn as { client?: Client }).client?.id ?? null, declaredBytes: declared, maxFrameBytes },
            declared < 0 ? 'mqtt connection closed: malformed packet length' : 'mqtt connection closed: packet larger than mqtt.maxPayloadBytes',
          );
        },
      });
      aedes.handle(conn);
    };
    const server = tls ? this.#createTlsServer(tls, onConnection) : createServer(onConnection);

    this.#aedes = aedes;
    this.#server = server;
    let port: number;
    try {
      port = await listenMqtt(server, config.mqttPort, config.host);
    } catch (error) {
      this.#server = null;
      this.#aedes = null;
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      throw error;
    }
    server.on('error', (error) => this.#log.error({ err: error }, 'mqtt server error'));
    this.#ready = true;
    this.#log.info({ port, host: config.host, tls: Boolean(tls) }, 'mqtt listening');
    return { port };
  }

  /**
   * Stops accepting connections, lets the batches already admitted finish and be acked, then
   * closes every client (their last wills are recorded) and waits for that work too.
   */
  async stop(): Promise<void> {
    const aedes = this.#aedes;
    const server = this.#server;
    if (!aedes || !server || this.#closing) return;
    this.#closing = true;
    this.#ready = false;
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    await this.#inbox.drain();
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await serverClosed;
    await this.#inbox.drain();
    this.#aedes = null;
    this.#server = null;
    this.#log.info('mqtt stopped');
  }

  #createTlsServer(tls: { cert: Buffer; key: Buffer; certFile: string }, onConnection: (socket: Socket) => void): Server {
    let server;
    try {
      server = createTlsServer({ cert: tls.cert, key: tls.key }, onConnection);
    } catch (error) {
      throw new UserError(
        `MQTT TLS certificate ${tls.certFile} or its key cannot be used: ${(error as Error).message}`,
        'point mqtt.tlsCertFile and mqtt.tlsKeyFile at a matching PEM certificate and private key',
      );
    }
    server.on('tlsClientError', (error) => this.#log.debug({ err: error.message }, 'mqtt tls handshake failed'));
    return server;
  }

  #authorizePublish(client: Client | null, packet: PublishPacket): Error | null {
    let reason: string | null;
    if (client) {
      const decision = canPublish(client.id, packet.topic);
      reason = decision.allowed ? null : decision.reason;
    } else {
      // aedes passes no client only for a stale last will it publishes on its own.
      reason = parseDeviceTopic(packet.topic)?.channel === 'status' ? null : `stale last will on ${packet.topic} is not a status topic`;
    }
    if (reason === null) return null;
    this.#metrics.aclDenied.inc({ action: 'publish' });
    this.#log.warn({ deviceId: client?.id ?? null, topic: packet.topic, reason }, 'mqtt publish denied; connection closed');
    return new Error(reason);
  }

  #onPublished(packet: AedesPublishPacket, client: Client | null, callback: (error?: Error | null) => void): void {
    // Our own publishes (acks, $SYS) have no client, except a last will which carries its client.
    const parsed = parseDeviceTopic(packet.topic);
    if (!parsed || (client === null && parsed.channel !== 'status')) return callback(null);
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    if (parsed.channel === 'events' && this.#closing) {
      this.#log.debug({ deviceId: parsed.deviceId }, 'batch ignored during shutdown; the agent resends it');
      return callback(null);
    }
    void this.#inbox.accept(parsed.deviceId, parsed.channel, payload).then(() => callback(null));
  }

  #publishAck(deviceId: string, ack: Ack): Promise<void> {
    const aedes = this.#aedes;
    if (!aedes || aedes.closed) return Promise.reject(new Error('broker closed'));
    const packet: PublishPacket = {
      cmd: 'publish',
      topic: deviceTopic(deviceId, 'acks'),
      payload: Buffer.from(JSON.stringify(ack)),
      qos: 1,
      retain: false,
      dup: false,
    };
    return new Promise((resolve, reject) => aedes.publish(packet, (error) => (error ? reject(error) : resolve())));
  }
}

function readTlsFiles(certFile: string | undefined, keyFile: string | undefined): { cert: Buffer; key: Buffer; certFile: string } | null {
  if (!certFile || !keyFile) return null;
  const read = (file: string, what: string, env: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'not found' : code === 'EACCES' ? 'permission denied' : String((error as Error).message);
      throw new UserError(`MQTT TLS ${what} file ${file}: ${why}`, `fix mqtt.${what === 'certificate' ? 'tlsCertFile' : 'tlsKeyFile'} (${env}) or unset both to use plain TCP`);
    }
  };
  return { cert: read(certFile, 'certificate', 'ROADWATCH_HUB_TLS_CERT'), key: read(keyFile, 'key', 'ROADWATCH_HUB_TLS_KEY'), certFile };
}
