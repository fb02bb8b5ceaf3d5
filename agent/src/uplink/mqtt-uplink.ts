import { connect as mqttConnectDefault, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AckSchema, OFFLINE_STATUS, UserError, deviceTopic, newBatchId, type Ack } from '@roadwatch/shared';
import type { AgentConfig } from '../config/schema.js';
import type { Outbox } from '../outbox/outbox.js';
import { Backoff, type JitterMode } from './backoff.js';
import { buildBatchPayload, envelopeOverheadBytes, rowsThatFit } from './batch.js';
import { buildConnectOptions } from './connect-options.js';
import { InFlightTracker } from './in-flight.js';
import { registerUplinkMetrics, zeroCounters, type CounterSink, type UplinkCounters, type UplinkState } from './metrics.js';
import { buildOnlineStatus } from './status.js';

export type { UplinkState } from './metrics.js';
export type MqttConnect = (url: string, options: IClientOptions) => MqttClient;

export interface MqttUplinkOptions {
  config: AgentConfig;
  outbox: Outbox;
  logger: Logger;
  clock?: () => number;
  random?: () => number;
  registry?: Registry;
  /** Defaults to mqtt.connect; one call per connection attempt. */
  mqttConnect?: MqttConnect;
  /** Reported in the status payload. */
  agentVersion?: string;
  /** Backoff strategy between reconnects (default decorrelated jitter). */
  jitter?: JitterMode;
  /** How long stop() waits for in-flight acks before it gives up on them (default 2000 ms). */
  stopTimeoutMs?: number;
}

export interface UplinkSnapshot extends UplinkCounters {
  state: UplinkState;
  inFlight: number;
  /** Highest seq published since the last resend point (0 = start from the oldest unsettled row). */
  cursor: number;
  lastAckAt: number | null;
  lastError: string | null;
}

/** A connection that drops sooner than this after CONNACK does not reset the backoff (flapping link or hub). */
const STABLE_CONNECTION_MS = 10_000;
/** Refused credentials are retried no faster than this (capped by uplink.backoffMaxMs). */
const AUTH_RETRY_FLOOR_MS = 30_000;
const CREDENTIALS_HINT = 'hub rejected device credentials — check ROADWATCH_DEVICE_SECRET or re-issue with roadwatch-hub devices add';

/**
 * Moves outbox rows to the hub over MQTT (QoS 1, persistent session) in batches, several in flight.
 * Rows leave the outbox only when the hub's ack for their batch arrives; on a lost link or an ack
 * timeout every unsettled row is sent again from the start (the hub dedupes by eventId).
 */
export class MqttUplink {
  private readonly config: AgentConfig;
  private readonly outbox: Outbox;
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly connectFn: MqttConnect;
  private readonly backoff: Backoff;
  private readonly inFlight = new InFlightTracker();
  private readonly counters = zeroCounters();
  private readonly sink: CounterSink | undefined;
  private readonly topics: { events: string; acks: string; status: string };
  private readonly overheadBytes: number;
  private readonly stopTimeoutMs: number;
  private readonly agentVersion: string | undefined;

  private connectOptions: IClientOptions | undefined;
  private client: MqttClient | undefined;
  private state: UplinkState = 'stopped';
  private ready = false;
  private started = false;
  private stopping = false;
  private cursor = 0;
  private lastAckAt: number | null = null;
  private lastError: string | null = null;
  private connectedAt = 0;
  private outageWarned = false;
  private authRefused = false;
  private lastPollAt = 0;
  private pumping = false;
  private pumpAgain = false;
  private pumpScheduled = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private drainWaiters: (() => void)[] = [];

  constructor(options: MqttUplinkOptions) {
    const { config } = options;
    const { backoffMinMs, backoffMaxMs } = config.uplink;
    if (backoffMinMs > backoffMaxMs) {
      throw new UserError(`uplink.backoffMinMs (${backoffMinMs}) is larger than uplink.backoffMaxMs (${backoffMaxMs})`, 'make backoffMinMs ≤ backoffMaxMs');
    }
    this.config = config;
    this.outbox = options.outbox;
    this.log = options.logger.child({ module: 'uplink' });
    this.clock = options.clock ?? Date.now;
    this.connectFn = options.mqttConnect ?? mqttConnectDefault;
    this.backoff = new Backoff({ minMs: backoffMinMs, maxMs: backoffMaxMs, jitter: options.jitter ?? 'decorrelated' }, options.random ?? Math.random);
    this.topics = {
      events: deviceTopic(config.deviceId, 'events'),
      acks: deviceTopic(config.deviceId, 'acks'),
      status: deviceTopic(config.deviceId, 'status'),
    };
    this.overheadBytes = envelopeOverheadBytes(config.deviceId);
    this.stopTimeoutMs = options.stopTimeoutMs ?? 2_000;
    this.agentVersion = options.agentVersion;
    this.sink = options.registry ? registerUplinkMetrics(options.registry, () => ({ state: this.state, inFlight: this.inFlight.size })) : undefined;
  }

  get uplinkState(): UplinkState {
    return this.state;
  }

  snapshot(): UplinkSnapshot {
    return { ...this.counters, state: this.state, inFlight: this.inFlight.size, cursor: this.cursor, lastAckAt: this.lastAckAt, lastError: this.lastError };
  }

  /** Starts connecting and returns at once: the agent works offline; rows wait in the outbox. Throws UserError for a missing CA file. */
  async start(): Promise<void> {
    if (this.started) return;
    this.connectOptions = buildConnectOptions(this.config);
    this.started = true;
    this.stopping = false;
    const tickMs = Math.min(this.config.outbox.pollMs, 500);
    this.tickTimer = setInterval(() => this.tick(), tickMs);
    this.log.info({ hubUrl: this.config.hubUrl, deviceId: this.config.deviceId }, 'uplink starting');
    this.connect();
  }

  /** Wakes the send loop (call after appending rows to the outbox). */
  notify(): void {
    if (this.pumpScheduled || !this.ready) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Stops sending, waits up to stopTimeoutMs for in-flight acks, publishes `offline`, ends the connection. */
  async stop(): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    clearInterval(this.tickTimer);
    clearInterval(this.statusTimer);
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    if (client && this.ready) {
      if (this.inFlight.size > 0) await this.waitForDrain(this.stopTimeoutMs);
      if (this.ready) {
        await withTimeout(client.publishAsync(this.topics.status, JSON.stringify(OFFLINE_STATUS), { qos: 1, retain: true }), 1_000).catch((error: unknown) =>
          this.log.warn({ err: error }, 'could not publish offline status; the broker will publish the last will'),
        );
      }
    }
    if (client) await endClient(client, !this.ready);
    this.client = undefined;
    this.ready = false;
    this.started = false;
    this.setState('stopped');
    this.log.info({ inFlight: this.inFlight.size }, 'uplink stopped');
  }

  // ---- connection lifecycle -------------------------------------------------------------------

  private connect(): void {
    if (this.stopping || !this.connectOptions) return;
    this.setState('connecting');
    let client: MqttClient;
    try {
      client = this.connectFn(this.config.hubUrl, { ...this.connectOptions });
    } catch (error) {
      this.onAttemptFailed(error as Error);
      this.scheduleReconnect();
      return;
    }
    this.client = client;
    let closed = false;
    client.on('connect', (connack) => {
      if (this.client === client) this.onConnected(client, connack.sessionPresent);
    });
    client.on('message', (topic, payload) => {
      if (this.client === client) this.onMessage(topic, payload);
    });
    client.on('error', (error) => {
      if (this.client === client) this.onAttemptFailed(error);
    });
    client.on('close', () => {
      if (closed) return;
      closed = true;
      if (this.client === client) this.onClosed(client);
    });
  }

  private onConnected(client: MqttClient, sessionPresent: boolean): void {
    this.count('connects');
    this.connectedAt = this.clock();
    this.authRefused = false;
    this.lastError = null;
    const wasOut = this.outageWarned;
    this.outageWarned = false;
    this.log.info({ sessionPresent, attempts: this.backoff.attempts }, wasOut ? 'connected to hub again' : 'connected to hub');
    // The persistent session usually has the subscription already; subscribing again is harmless.
    client.subscribe(this.topics.acks, { qos: 1 }, (error, granted) => {
      if (this.client !== client || this.stopping) return;
      const refused = granted?.some((g) => g.qos === 128);
      if (error || refused) {
        this.lastError = `subscribe ${this.topics.acks}: ${error ? error.message : 'refused by the hub'}`;
        this.log.error({ topic: this.topics.acks, err: error }, 'hub refused the acks subscription — check the hub ACL for this device; reconnecting');
        client.end(true);
        return;
      }
      this.ready = true;
      this.setState('online');
      this.cursor = 0;
      this.publishStatus();
      clearInterval(this.statusTimer);
      this.statusTimer = setInterval(() => this.publishStatus(), this.config.uplink.statusIntervalMs);
      this.pump();
    });
  }

  private onAttemptFailed(error: Error): void {
    this.lastError = error.message;
    const code = (error as { code?: unknown }).code;
    if (code === 4 || code === 5) {
      this.authRefused = true;
      this.count('authFailures');
      this.log.error({ err: error.message, deviceId: this.config.deviceId }, CREDENTIALS_HINT);
      return;
    }
    if (!this.outageWarned) {
      this.outageWarned = true;
      this.log.warn({ err: error.message, hubUrl: this.config.hubUrl }, 'hub unreachable — retrying with backoff; events wait in the outbox (check ROADWATCH_HUB_URL and that the hub is running)');
    } else {
      this.log.debug({ err: error.message }, 'connection attempt failed');
    }
  }

  private onClosed(client: MqttClient): void {
    const wasReady = this.ready;
    this.ready = false;
    clearInterval(this.statusTimer);
    client.removeAllListeners('message');
    client.on('error', () => {});
    this.client = undefined;
    this.resendFromStart('link lost');
    this.releaseDrainWaiters();
    if (this.stopping) return;
    this.count('connectFailures');
    if (wasReady) {
      if (this.clock() - this.connectedAt >= STABLE_CONNECTION_MS) this.backoff.reset();
      if (!this.outageWarned) {
        this.outageWarned = true;
        this.log.warn({ err: this.lastError }, 'lost connection to hub — retrying with backoff; events wait in the outbox');
      }
    }
    client.end(true);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopping) return;
    let delay = this.backoff.next();
    if (this.authRefused) delay = Math.max(delay, Math.min(this.config.uplink.backoffMaxMs, AUTH_RETRY_FLOOR_MS));
    this.setState('backoff');
    this.log.debug({ delayMs: delay, attempt: this.backoff.attempts }, 'reconnecting after backoff');
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  // ---- sending ---------------------------------------------------------------------------------

  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        while (this.ready && !this.stopping && this.inFlight.size < this.config.uplink.maxInFlight) {
          if (!this.sendNextBatch()) break;
        }
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  /** Publishes the next batch after the cursor; false when there is nothing to send (or the outbox failed). */
  private sendNextBatch(): boolean {
    const client = this.client;
    if (!client) return false;
    const { batchMaxEvents, batchMaxBytes } = this.config.uplink;
    const budget = Math.max(1, batchMaxBytes - this.overheadBytes - (batchMaxEvents - 1));
    let rows;
    try {
      rows = this.outbox.readAfter(this.cursor, batchMaxEvents, budget);
    } catch (error) {
      this.count('outboxErrors');
      this.log.error({ err: error }, 'reading the outbox failed; retrying at the next poll');
      return false;
    }
    if (rows.length === 0) return false;
    const sizes = rows.map((r) => Buffer.byteLength(r.payload));
    const take = rowsThatFit(this.overheadBytes, sizes, batchMaxBytes);
    const batchRows = rows.slice(0, take);
    const first = batchRows[0]!;
    const last = batchRows[batchRows.length - 1]!;
    const batchId = newBatchId();
    const sentAt = this.clock();
    const payload = buildBatchPayload({ deviceId: this.config.deviceId, batchId, sentAt: new Date(sentAt).toISOString(), payloads: batchRows.map((r) => r.payload) });
    this.inFlight.add({ batchId, fromSeq: first.seq, toSeq: last.seq, events: batchRows.length, sentAt });
    this.cursor = last.seq;
    this.count('batchesSent');
    this.log.debug({ batchId, fromSeq: first.seq, toSeq: last.seq, events: batchRows.length, bytes: Buffer.byteLength(payload) }, 'batch sent');
    client.publish(this.topics.events, payload, { qos: 1 }, (error) => {
      if (error) this.log.debug({ batchId, err: error.message }, 'batch publish not confirmed by the broker');
    });
    return true;
  }

  private resendFromStart(reason: string): void {
    const dropped = this.inFlight.retireAll();
    this.cursor = 0;
    if (dropped > 0) {
      this.count('batchesResent', dropped);
      this.log.debug({ dropped, reason }, 'in-flight batches dropped; unsettled rows will be sent again');
    }
  }

  private tick(): void {
    if (!this.ready || this.stopping) return;
    const now = this.clock();
    const oldest = this.inFlight.oldest();
    if (oldest && now - oldest.sentAt >= this.config.uplink.ackTimeoutMs) {
      this.count('ackTimeouts');
      this.log.warn(
        { batchId: oldest.batchId, waitedMs: now - oldest.sentAt, inFlight: this.inFlight.size },
        'no ack from the hub within uplink.ackTimeoutMs — resending unsettled events (the hub drops duplicates)',
      );
      this.resendFromStart('ack timeout');
      this.releaseDrainWaiters();
      this.pump();
      return;
    }
    if (now - this.lastPollAt >= this.config.outbox.pollMs) {
      this.lastPollAt = now;
      this.pump();
    }
  }

  // ---- acks ------------------------------------------------------------------------------------

  private onMessage(topic: string, payload: Buffer): void {
    if (topic !== this.topics.acks) {
      this.log.debug({ topic }, 'ignoring message on a topic the agent does not handle yet');
      return;
    }
    let ack: Ack;
    try {
      const parsed = AckSchema.safeParse(JSON.parse(payload.toString('utf8')));
      if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
      ack = parsed.data;
    } catch (error) {
      this.count('acksInvalid');
      this.log.warn({ err: (error as Error).message, bytes: payload.length }, 'ignoring an invalid ack from the hub');
      return;
    }
    const found = this.inFlight.take(ack.batchId);
    if (!found) {
      this.count('acksUnknown');
      this.log.debug({ batchId: ack.batchId }, 'ack for an unknown batch (late, after a resend) ignored');
      return;
    }
    const { batch, retired } = found;
    const now = this.clock();
    try {
      const removed = this.outbox.settle(batch.fromSeq, batch.toSeq, now);
      this.count('eventsSettled', removed);
    } catch (error) {
      this.count('outboxErrors');
      this.log.error({ err: error, batchId: batch.batchId }, 'settling acked rows failed; they will be sent again');
    }
    this.lastAckAt = now;
    this.count('batchesAcked');
    if (ack.rejected.length > 0 || ack.error) {
      this.count('eventsRejected', ack.rejected.length);
      this.log.warn({ batchId: ack.batchId, rejected: ack.rejected.slice(0, 5), rejectedCount: ack.rejected.length, error: ack.error }, 'hub quarantined events of a batch');
    }
    this.log.debug({ batchId: ack.batchId, fromSeq: batch.fromSeq, toSeq: batch.toSeq, duplicates: ack.duplicates, retired }, 'batch acked');
    if (this.inFlight.size === 0) this.releaseDrainWaiters();
    this.pump();
  }

  // ---- status ----------------------------------------------------------------------------------

  private publishStatus(): void {
    const client = this.client;
    if (!client || !this.ready) return;
    let payload: string;
    try {
      payload = JSON.stringify(buildOnlineStatus(this.outbox.stats(), this.clock(), this.agentVersion));
    } catch (error) {
      this.count('outboxErrors');
      this.log.error({ err: error }, 'could not build the status payload');
      return;
    }
    client.publish(this.topics.status, payload, { qos: 1, retain: true }, (error) => {
      if (error) this.log.debug({ err: error.message }, 'status publish not confirmed');
    });
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private setState(state: UplinkState): void {
    if (this.state === state) return;
    this.log.debug({ from: this.state, to: state }, 'uplink state');
    this.state = state;
  }

  private count(name: keyof UplinkCounters, by = 1): void {
    this.counters[name] += by;
    this.sink?.(name, by);
  }

  private waitForDrain(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.drainWaiters.push(done);
    });
  }

  private releaseDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** Ends the client (DISCONNECT unless forced, so the broker discards the will); forces it after 1 s. */
async function endClient(client: MqttClient, force: boolean): Promise<void> {
  client.on('error', () => {});
  await withTimeout(client.endAsync(force), 1_000).catch(() => client.endAsync(true).catch(() => undefined));
}
