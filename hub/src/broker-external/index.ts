import { UserError, deviceTopic, parseDeviceTopic, type Ack } from '@roadwatch/shared';
import mqtt, { ReasonCodes, type DoneCallback, type IClientOptions, type IConnackPacket, type IDisconnectPacket, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { Gauge, Counter, type Registry } from 'prom-client';
import { DeviceInbox } from '../broker/device-inbox.js';
import { createBrokerMetrics } from '../broker/metrics.js';
import type { DeviceTransport, TransportStats } from '../broker/transport.js';
import type { BatchIngest, StatusRecorder } from '../services/ports.js';
import { externalConnection, RECONNECT_PERIOD_MS, type ExternalConnection, type ExternalMqttConfig } from './connection.js';

/** start() waits this long for the first connection before it returns and lets the hub run not ready. */
const START_WAIT_MS = 10_000;
/** An ack the broker has not confirmed by then is logged; mqtt.js keeps it and sends it again after a reconnect. */
const ACK_CONFIRM_TIMEOUT_MS = 10_000;
/** stop() waits this long for a clean DISCONNECT before it drops the connection. */
const END_TIMEOUT_MS = 5_000;
/** A connection lost sooner than this after CONNACK, repeatedly, looks like two replicas sharing a client id. */
const FLAP_MS = 5_000;

/** MQTT 5 CONNACK reason codes that mean "these credentials are not welcome": retrying will not help. */
const CREDENTIAL_CODES = new Set([0x86 /* bad user name or password */, 0x87 /* not authorized */, 0x8c /* bad authentication method */]);
const SESSION_TAKEN_OVER = 0x8e;

export interface ExternalBrokerOptions {
  config: { mqtt: ExternalMqttConfig };
  services: { ingest: BatchIngest; status: StatusRecorder };
  logger: Logger;
  registry: Registry;
  /** mqtt.connect by default; one client for the whole run (mqtt.js reconnects it). */
  connect?: (url: string, options: IClientOptions) => MqttClient;
  /** How long start() waits for the first connection (default 10 s). */
  startWaitMs?: number;
  /** How long an ack may wait for the broker's PUBACK before it is logged (default 10 s). */
  ackConfirmTimeoutMs?: number;
}

type StartOutcome = { kind: 'ready' } | { kind: 'refused'; error: UserError } | { kind: 'waiting' };

/**
 * Scale-out mode: the hub embeds no broker and takes device batches and statuses from an external
 * MQTT 5 broker through shared subscriptions (`$share/<group>/roadwatch/v1/devices/+/events` and
 * `…/status`), so each message reaches one replica. Device authentication and ACL are the broker's
 * job. Every message goes through the same `DeviceInbox` as with the embedded broker; the ack is
 * published to the device's `acks` topic (QoS 1) after the ingest committed.
 *
 * Delivery (docs/SCALE-OUT.md#delivery-guarantees): mqtt.js sends the PUBACK for a message once
 * `handleMessage` calls back, and it processes one incoming packet at a time. The hub calls back
 * when the batch is admitted to an ingest slot, not when it is committed, so ingests run in
 * parallel. A replica that dies between the PUBACK and the commit loses that copy; the device,
 * which got no ack, sends the events again after `uplink.ackTimeoutMs` and the ingest stores each
 * event once (unique event id): at least once to the hub, exactly once in the database. Messages
 * not yet admitted are not acknowledged, stay in the replica's session on the broker, and are
 * delivered again when it reconnects with the same client id.
 */
export class ExternalBroker implements DeviceTransport {
  readonly #options: ExternalBrokerOptions;
  readonly #log: Logger;
  readonly #inbox: DeviceInbox;
  readonly #connected: Gauge;
  readonly #connects: Counter;
  #conn: ExternalConnection | null = null;
  #client: MqttClient | null = null;
  /** Publishes the acks, and reads nothing but their PUBACKs (see externalConnection). */
  #acker: MqttClient | null = null;
  #subscribed = false;
  #ready = false;
  #closing = false;
  /** Incremented on every CONNACK: a SUBACK from an older connection is ignored. */
  #generation = 0;
  #connectedAt = 0;
  #flaps = 0;
  #problem: string | null = null;
  #onStartOutcome: ((outcome: StartOutcome) => void) | null = null;

  constructor(options: ExternalBrokerOptions) {
    this.#options = options;
    this.#log = options.logger.child({ component: 'mqtt', broker: 'external' });
    const metrics = createBrokerMetrics(options.registry);
    const { maxPayloadBytes, ingestConcurrency } = options.config.mqtt;
    this.#inbox = new DeviceInbox({
      services: options.services,
      publishAck: (deviceId, ack) => this.#publishAck(deviceId, ack),
      maxPayloadBytes,
      concurrency: ingestConcurrency,
      logger: this.#log,
      metrics,
    });
    const registers = [options.registry];
    const existing = <T>(name: string): T | undefined => options.registry.getSingleMetric(name) as T | undefined;
    this.#connected =
      existing<Gauge>('roadwatch_hub_mqtt_broker_connected') ??
      new Gauge({ name: 'roadwatch_hub_mqtt_broker_connected', help: 'Scale-out mode: 1 while connected and subscribed to the external MQTT broker', registers });
    this.#connects =
      existing<Counter>('roadwatch_hub_mqtt_broker_connects_total') ??
      new Counter({ name: 'roadwatch_hub_mqtt_broker_connects_total', help: 'Scale-out mode: connections made to the external MQTT broker (reconnects included)', registers });
  }

  /** Connected to the external broker with both shared subscriptions granted, and the acks' connection up. */
  get ready(): boolean {
    return this.#ready;
  }

  get stats(): TransportStats & { mode: 'external'; url: string | null; clientId: string | null } {
    return { listening: this.#ready, clients: 0, ingestInFlight: this.#inbox.inFlight, mode: 'external', url: this.#conn?.safeUrl ?? null, clientId: this.#conn?.clientId ?? null };
  }

  /**
   * Connects and subscribes. Resolves when subscribed, or after `startWaitMs` while the broker is
   * unreachable (the hub runs, not ready, and keeps retrying). Rejects with a UserError when the
   * broker refuses the hub's credentials or its subscriptions: that is configuration to fix.
   */
  async start(): Promise<{ port: number }> {
    if (this.#client) throw new Error('ExternalBroker already started');
    const conn = externalConnection(this.#options.config.mqtt);
    this.#conn = conn;
    this.#closing = false;
    const outcome = new Promise<StartOutcome>((resolve) => {
      const timer = setTimeout(() => resolve({ kind: 'waiting' }), this.#options.startWaitMs ?? START_WAIT_MS);
      this.#onStartOutcome = (o) => {
        clearTimeout(timer);
        this.#onStartOutcome = null;
        resolve(o);
      };
    });
    this.#log.info({ url: conn.safeUrl, clientId: conn.clientId, subscriptions: conn.subscriptions }, 'connecting to the external MQTT broker');
    if (this.#options.config.mqtt.tlsCertFile) {
      this.#log.warn('mqtt.tlsCertFile/tlsKeyFile (ROADWATCH_HUB_TLS_CERT/KEY) are ignored with mqtt.url: the external broker terminates TLS for vehicles');
    }
    const connect = this.#options.connect ?? mqtt.connect;
    const acker = connect(conn.url, conn.ackOptions);
    this.#acker = acker;
    acker.on('connect', () => this.#updateReady());
    acker.on('close', () => this.#updateReady());
    acker.on('error', (error) => this.#onError(error));
    const client = connect(conn.url, conn.options);
    this.#client = client;
    // Installed before the first packet is read (mqtt.js reads on a later tick).
    client.handleMessage = (packet, callback) => this.#onPacket(packet, callback);
    client.on('connect', (connack) => void this.#onConnect(client, connack));
    client.on('close', () => this.#onClose());
    client.on('disconnect', (packet) => this.#onServerDisconnect(packet));
    client.on('error', (error) => this.#onError(error));

    const result = await outcome;
    if (result.kind === 'refused') {
      await this.#end(true);
      throw result.error;
    }
    if (result.kind === 'waiting') {
      this.#log.warn({ url: conn.safeUrl, problem: this.#problem }, 'external MQTT broker not reachable yet; the hub runs not ready (/health/ready 503) and keeps retrying');
    }
    return { port: 0 };
  }

  /**
   * Takes no new messages (they stay unacknowledged in this replica's session and come back when it
   * reconnects), lets the admitted batches commit and their acks be confirmed, then disconnects
   * cleanly, keeping the session on the broker for `mqtt.sessionExpiryS`.
   */
  async stop(): Promise<void> {
    if (!this.#client || this.#closing) return;
    this.#closing = true;
    this.#setSubscribed(false);
    await this.#inbox.drain();
    await this.#end(false);
    this.#log.info('mqtt stopped');
  }

  async #end(force: boolean): Promise<void> {
    const client = this.#client;
    if (!client) return;
    this.#closing = true;
    // The consumer first (no more batches), then the acks' connection (stop() has let them be confirmed).
    await endWithin(client, force);
    if (this.#acker) await endWithin(this.#acker, force);
    this.#client = null;
    this.#acker = null;
    this.#setSubscribed(false);
  }

  // ---- incoming --------------------------------------------------------------------------------

  /** mqtt.js calls this for each PUBLISH, one at a time; the PUBACK goes out when `callback` is called without an error. */
  #onPacket(packet: IPublishPacket, callback: DoneCallback): void {
    if (this.#closing) {
      // An error skips the PUBACK: the message stays in this replica's session on the broker.
      callback(new Error('hub stopping: message left unacknowledged for redelivery'));
      return;
    }
    const parsed = parseDeviceTopic(packet.topic);
    if (!parsed || (parsed.channel !== 'events' && parsed.channel !== 'status')) {
      this.#log.debug({ topic: packet.topic }, 'message on a topic the hub does not consume; acknowledged and ignored');
      callback();
      return;
    }
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    void this.#inbox.accept(parsed.deviceId, parsed.channel, payload).then(() => callback());
  }

  #publishAck(deviceId: string, ack: Ack): Promise<void> {
    const client = this.#acker;
    if (!client) return Promise.reject(new Error('not connected to the external MQTT broker'));
    const timeoutMs = this.#options.ackConfirmTimeoutMs ?? ACK_CONFIRM_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the broker did not confirm the ack within ${timeoutMs} ms (mqtt.js sends it again after a reconnect)`)), timeoutMs);
      client.publish(deviceTopic(deviceId, 'acks'), JSON.stringify(ack), { qos: 1, retain: false }, (error) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      });
    });
  }

  // ---- connection ------------------------------------------------------------------------------

  async #onConnect(client: MqttClient, connack: IConnackPacket): Promise<void> {
    const generation = ++this.#generation;
    const conn = this.#conn!;
    this.#connectedAt = Date.now();
    this.#connects.inc();
    let refused: string[] = [];
    try {
      const granted = await client.subscribeAsync(Object.fromEntries(conn.subscriptions.map((topic) => [topic, { qos: 1 as const }])));
      refused = granted.filter((g) => g.qos > 2).map((g) => `${g.topic} (${reasonText(g.qos)})`);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code !== 'number') {
        if (generation === this.#generation && !this.#closing) this.#log.warn({ err: error }, 'subscribing on the external MQTT broker failed; retrying on the next connection');
        return;
      }
      refused = conn.subscriptions.map((topic) => `${topic} (${reasonText(code)})`);
    }
    if (generation !== this.#generation || this.#closing || !client.connected) return;
    if (refused.length) {
      const error = new UserError(
        `the external MQTT broker refused the hub's subscriptions: ${refused.join(', ')}`,
        `allow user ${this.#options.config.mqtt.username ?? '(none)'} to subscribe to them and to publish to roadwatch/v1/devices/+/acks (deploy/mosquitto/acl, docs/SCALE-OUT.md)`,
      );
      this.#report(error.message, 'error');
      this.#onStartOutcome?.({ kind: 'refused', error });
      return;
    }
    this.#problem = null;
    this.#log.info({ url: conn.safeUrl, clientId: conn.clientId, sessionPresent: connack.sessionPresent ?? false }, 'connected to the external MQTT broker and subscribed');
    this.#setSubscribed(true);
  }

  #onClose(): void {
    const wasReady = this.#subscribed;
    this.#setSubscribed(false);
    if (this.#closing) return;
    const lived = Date.now() - this.#connectedAt;
    if (wasReady) {
      this.#flaps = lived < FLAP_MS ? this.#flaps + 1 : 0;
      if (this.#flaps >= 3) {
        this.#report(
          `connection to the external MQTT broker keeps dropping right after it is made (client id ${this.#conn?.clientId}) — another hub replica probably uses the same client id: give each replica its own ROADWATCH_HUB_MQTT_CLIENT_ID`,
          'error',
        );
      } else {
        this.#log.warn({ url: this.#conn?.safeUrl, retryInMs: RECONNECT_PERIOD_MS }, 'lost the connection to the external MQTT broker; reconnecting (not ready meanwhile)');
      }
    }
  }

  #onServerDisconnect(packet: IDisconnectPacket): void {
    if (packet.reasonCode === SESSION_TAKEN_OVER) {
      this.#report(
        `the external MQTT broker handed this replica's session (client id ${this.#conn?.clientId}) to another connection — every hub replica needs its own ROADWATCH_HUB_MQTT_CLIENT_ID`,
        'error',
      );
    } else {
      this.#log.warn({ reasonCode: packet.reasonCode, reason: reasonText(packet.reasonCode ?? 0) }, 'the external MQTT broker closed the connection');
    }
  }

  #onError(error: Error & { code?: unknown }): void {
    const conn = this.#conn!;
    const user = this.#options.config.mqtt.username;
    if (typeof error.code === 'number' && CREDENTIAL_CODES.has(error.code)) {
      const refusal = new UserError(
        `the external MQTT broker ${conn.safeUrl} refused the hub's login as ${user ?? '(no user name)'} (${reasonText(error.code)})`,
        'set ROADWATCH_HUB_MQTT_USERNAME and ROADWATCH_HUB_MQTT_PASSWORD to a user of the broker (roadwatch-hub broker passwd, docs/SCALE-OUT.md) and check the broker\'s ACL',
      );
      if (this.#onStartOutcome) this.#onStartOutcome({ kind: 'refused', error: refusal });
      else this.#report(refusal.message, 'error');
      return;
    }
    const detail = typeof error.code === 'string' ? `${error.code}: ${error.message}` : error.message;
    this.#report(`cannot reach the external MQTT broker ${conn.safeUrl} (${detail}) — start it or fix ROADWATCH_HUB_MQTT_URL; retrying every ${RECONNECT_PERIOD_MS / 1000} s`, 'warn');
  }

  /** Logs a problem once until the connection is healthy again (a retry every 2 s must not flood the log). */
  #report(problem: string, level: 'warn' | 'error'): void {
    if (this.#problem === problem) return;
    this.#problem = problem;
    this.#log[level]({ url: this.#conn?.safeUrl }, problem);
  }

  #setSubscribed(subscribed: boolean): void {
    this.#subscribed = subscribed;
    this.#updateReady();
  }

  /** Ready = subscribed on the consumer connection and the acks' connection up. */
  #updateReady(): void {
    const ready = this.#subscribed && !this.#closing && (this.#acker?.connected ?? false);
    this.#ready = ready;
    this.#connected.set(ready ? 1 : 0);
    if (ready) this.#onStartOutcome?.({ kind: 'ready' });
  }
}

/** Ends a client cleanly, or drops it when that takes longer than END_TIMEOUT_MS. */
async function endWithin(client: MqttClient, force: boolean): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), END_TIMEOUT_MS)));
  const ended = client.endAsync(force).then(
    () => false,
    () => false,
  );
  if (await Promise.race([ended, timedOut])) await client.endAsync(true).catch(() => undefined);
  clearTimeout(timer);
}

function reasonText(code: number): string {
  const name = (ReasonCodes as Record<number, string | undefined>)[code];
  return name ? `${name}, 0x${code.toString(16)}` : `reason 0x${code.toString(16)}`;
}
