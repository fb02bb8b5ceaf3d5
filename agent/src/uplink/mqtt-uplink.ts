import { connect as mqttConnectDefault } from 'mqtt';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { OFFLINE_STATUS, UserError, deviceTopic, newBatchId, type DetectorStatus } from '@roadwatch/shared';
import type { AgentConfig } from '../config/schema.js';
import type { Outbox } from '../outbox/outbox.js';
import { Backoff, type JitterMode } from './backoff.js';
import { parseAck } from './ack.js';
import { assembleBatch, envelopeOverheadBytes, rowByteBudget } from './batch.js';
import { withTimeout } from './client-helpers.js';
import { buildConnectOptions } from './connect-options.js';
import { AckWait, InFlightTracker } from './in-flight.js';
import { MqttLink, type MqttConnect } from './link.js';
import { registerUplinkMetrics, zeroCounters, type CounterSink, type UplinkCounters, type UplinkState } from './metrics.js';
import { buildOnlineStatus, type SensorReport } from './status.js';

export type { UplinkState } from './metrics.js';
export type { MqttConnect } from './link.js';

export interface MqttUplinkOptions {
  config: AgentConfig;
  outbox: Outbox;
  logger: Logger;
  /** Wall clock, ms since the epoch: the batch's `sentAt`, ack times, the status payload. */
  clock?: () => number;
  /**
   * Monotonic clock, ms (performance.now by default): ack timeouts and connection lifetimes. The wall
   * clock may be stepped back (NTP or GPS correcting a Pi's clock); measured with it, a batch sent
   * before the step would wait for its ack until the wall clock caught up — the uplink stuck.
   */
  mono?: () => number;
  random?: () => number;
  registry?: Registry;
  /** Defaults to mqtt.connect; one call per connection attempt. */
  mqttConnect?: MqttConnect;
  /** Reported in the status payload. */
  agentVersion?: string;
  /** Sensor health for the status payload (the camera pipeline, when there is one). */
  sensors?: () => SensorReport | undefined;
  /** The detector's p95 and frames a second for the status payload (while the camera pipeline runs). */
  detector?: () => DetectorStatus | undefined;
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

export interface SyncNowResult {
  /**
   * sending: batches went out now; awaiting-acks: everything is sent, acks are awaited;
   * up-to-date: nothing waits; reconnecting: a backoff was cut short, connecting now;
   * connecting: a connection attempt is already under way; stopped: the uplink does not run.
   */
  action: 'sending' | 'awaiting-acks' | 'up-to-date' | 'reconnecting' | 'connecting' | 'stopped';
  state: UplinkState;
  batchesSent: number;
  inFlight: number;
}

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
  private readonly mono: () => number;
  private readonly connectFn: MqttConnect;
  private readonly backoff: Backoff;
  private link: MqttLink | undefined;
  private readonly inFlight = new InFlightTracker();
  private readonly counters = zeroCounters();
  private readonly sink: CounterSink | undefined;
  private readonly topics: { events: string; acks: string; status: string };
  private readonly overheadBytes: number;
  private readonly stopTimeoutMs: number;
  private readonly agentVersion: string | undefined;
  private readonly sensors: (() => SensorReport | undefined) | undefined;
  private readonly detector: (() => DetectorStatus | undefined) | undefined;

  private state: UplinkState = 'stopped';
  private started = false;
  private stopping = false;
  private cursor = 0;
  private lastAckAt: number | null = null;
  /** Acks for known batches on the monotonic clock: progress, for the ack timeout. */
  private readonly ackWait: AckWait;
  private pumping = false;
  private pumpAgain = false;
  private pumpScheduled = false;
  private pollTimer: NodeJS.Timeout | undefined;
  /** uplink.lingerMs: wakes the send loop when the wait for a fuller batch is over. */
  private lingerTimer: NodeJS.Timeout | undefined;
  /** mono() when the last batch went out; -Infinity after a (re)connect or resend, so the next one goes at once. */
  private lastBatchAt = -Infinity;
  /** syncNow: send what waits without lingering. */
  private flushNow = false;
  private ackTimer: NodeJS.Timeout | undefined;
  private stopPromise: Promise<void> | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private drainWaiters: (() => void)[] = [];

  constructor(options: MqttUplinkOptions) {
    const { config } = options;
    const { backoffMinMs, backoffMaxMs } = config.uplink;
    if (backoffMinMs > backoffMaxMs) {
      throw new UserError(`uplink.backoffMinMs (${backoffMinMs}) is larger than uplink.backoffMaxMs (${backoffMaxMs})`, 'make backoffMinMs ≤ backoffMaxMs');
    }
    this.config = config;
    this.ackWait = new AckWait(config.uplink.ackTimeoutMs, config.uplink.ackMaxWaitMs);
    this.outbox = options.outbox;
    this.log = options.logger.child({ module: 'uplink' });
    this.clock = options.clock ?? Date.now;
    this.mono = options.mono ?? (() => performance.now());
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
    this.sensors = options.sensors;
    this.detector = options.detector;
    this.sink = options.registry ? registerUplinkMetrics(options.registry, () => ({ state: this.state, inFlight: this.inFlight.size })) : undefined;
  }

  get uplinkState(): UplinkState {
    return this.state;
  }

  snapshot(): UplinkSnapshot {
    const lastError = this.link?.lastError ?? null;
    return { ...this.counters, state: this.state, inFlight: this.inFlight.size, cursor: this.cursor, lastAckAt: this.lastAckAt, lastError };
  }

  /** Starts connecting and returns at once: the agent works offline; rows wait in the outbox. Throws UserError for a missing CA file. */
  async start(): Promise<void> {
    if (this.started) return;
    const link = new MqttLink({
      url: this.config.hubUrl,
      options: buildConnectOptions(this.config),
      connect: this.connectFn,
      backoff: this.backoff,
      backoffMaxMs: this.config.uplink.backoffMaxMs,
      subscribeTopic: this.topics.acks,
      log: this.log,
      clock: this.mono,
      handlers: {
        online: () => this.onOnline(),
        offline: () => this.onOffline(),
        message: (topic, payload) => this.onMessage(topic, payload),
        state: (state) => this.setState(state),
        count: (name) => this.count(name),
      },
    });
    this.link = link;
    this.backoff.reset();
    this.started = true;
    this.stopping = false;
    this.stopPromise = undefined;
    // Rows may be appended by another process (`roadwatch replay`): poll as well as notify().
    this.pollTimer = setInterval(() => this.pump(), this.config.outbox.pollMs);
    this.ackTimer = setInterval(() => this.checkAckTimeout(), Math.min(1_000, Math.ceil(this.config.uplink.ackTimeoutMs / 4)));
    this.log.info({ hubUrl: this.config.hubUrl, deviceId: this.config.deviceId }, 'uplink starting');
    link.start();
  }

  /**
   * `roadwatch sync --now`: online, sends what waits at once (up to uplink.maxInFlight batches);
   * waiting out a reconnect backoff, connects now. Says what it did.
   */
  syncNow(): SyncNowResult {
    if (!this.started || this.stopping) return { action: 'stopped', state: this.state, batchesSent: 0, inFlight: this.inFlight.size };
    if (this.link?.ready) {
      const batchesSent = this.sendWithoutLinger();
      const action = batchesSent > 0 ? 'sending' : this.inFlight.size > 0 ? 'awaiting-acks' : 'up-to-date';
      return { action, state: this.state, batchesSent, inFlight: this.inFlight.size };
    }
    const woke = this.link?.wake() ?? false;
    return { action: woke ? 'reconnecting' : 'connecting', state: this.state, batchesSent: 0, inFlight: this.inFlight.size };
  }

  /** Wakes the send loop (call after appending rows to the outbox). */
  notify(): void {
    if (this.pumpScheduled || !this.link?.ready) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Stops sending, waits up to stopTimeoutMs for in-flight acks, publishes `offline`, ends the connection. */
  stop(): Promise<void> {
    if (!this.started) return Promise.resolve();
    this.stopPromise ??= this.shutdown();
    return this.stopPromise;
  }

  private async shutdown(): Promise<void> {
    // What a linger holds back goes now (up to uplink.maxInFlight batches, their acks awaited below):
    // a vehicle stopped at the end of a shift must not keep its last events until the next start.
    if (this.link?.ready) this.sendWithoutLinger();
    this.stopping = true;
    clearInterval(this.pollTimer);
    clearInterval(this.ackTimer);
    clearInterval(this.statusTimer);
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    const link = this.link!;
    if (link.ready && this.inFlight.size > 0) await this.waitForDrain(this.stopTimeoutMs);
    const client = link.client;
    if (client) {
      await withTimeout(client.publishAsync(this.topics.status, JSON.stringify(OFFLINE_STATUS), { qos: 1, retain: true }), 1_000).catch((error: unknown) =>
        this.log.warn({ err: error }, 'could not publish offline status; the broker will publish the last will'),
      );
    }
    const unacked = this.inFlight.size;
    await link.close();
    this.inFlight.retireAll();
    this.cursor = 0;
    this.started = false;
    this.setState('stopped');
    this.log.info({ unackedBatches: unacked }, unacked > 0 ? 'uplink stopped; unacked batches stay in the outbox and are sent again at the next start' : 'uplink stopped');
  }

  // ---- sending ---------------------------------------------------------------------------------

  /** Sends what waits at once, whatever uplink.lingerMs says (up to uplink.maxInFlight batches); returns the batches sent. */
  private sendWithoutLinger(): number {
    const before = this.counters.batchesSent;
    this.flushNow = true;
    try {
      this.pump();
    } finally {
      this.flushNow = false;
    }
    return this.counters.batchesSent - before;
  }

  private onOnline(): void {
    this.cursor = 0;
    this.lastBatchAt = -Infinity;
    this.publishStatus();
    clearInterval(this.statusTimer);
    this.statusTimer = setInterval(() => this.publishStatus(), this.config.uplink.statusIntervalMs);
    this.pump();
  }

  private onOffline(): void {
    clearInterval(this.statusTimer);
    this.resendFromStart('link lost');
    this.releaseDrainWaiters();
  }

  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        while (this.link?.ready && !this.stopping && this.inFlight.size < this.config.uplink.maxInFlight) {
          if (!this.sendNextBatch()) break;
        }
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  /** Publishes the next batch after the cursor; false when there is nothing to send (or the outbox failed). */
  private sendNextBatch(): boolean {
    const client = this.link?.client;
    if (!client) return false;
    const { batchMaxEvents, batchMaxBytes } = this.config.uplink;
    const budget = rowByteBudget(this.overheadBytes, batchMaxEvents, batchMaxBytes);
    const lingerLeftMs = this.lingerLeftMs();
    let rows;
    try {
      if (lingerLeftMs > 0) {
        // Lingering: only a full batch goes now. Count what waits rather than read it on every event.
        const waiting = this.outbox.waitingAfter(this.cursor, batchMaxEvents, budget);
        if (!waiting.full) {
          if (waiting.events > 0) this.wakeAfter(lingerLeftMs);
          return false;
        }
      }
      rows = this.outbox.readAfter(this.cursor, batchMaxEvents, budget);
    } catch (error) {
      this.count('outboxErrors');
      this.log.error({ err: error }, 'reading the outbox failed; retrying at the next poll');
      return false;
    }
    const batchId = newBatchId();
    const sentAt = this.clock();
    const envelope = { deviceId: this.config.deviceId, batchId, sentAt: new Date(sentAt).toISOString(), overheadBytes: this.overheadBytes, batchMaxBytes };
    const batch = assembleBatch(rows, envelope);
    if (!batch) return false;
    const { payload, fromSeq, toSeq, events, bytes } = batch;
    this.lastBatchAt = this.mono();
    this.inFlight.add({ batchId, fromSeq, toSeq, events, sentAt: this.lastBatchAt });
    this.cursor = toSeq;
    this.count('batchesSent');
    this.log.debug({ batchId, fromSeq, toSeq, events, bytes }, 'batch sent');
    client.publish(this.topics.events, payload, { qos: 1 }, (error) => {
      if (error) this.log.debug({ batchId, err: error.message }, 'batch publish not confirmed by the broker');
    });
    return true;
  }

  /**
   * uplink.lingerMs: a batch that is not full waits until lingerMs after the previous one went out, so
   * a vehicle finding defects steadily sends one fuller batch every lingerMs instead of one per event —
   * the hub's cost is mostly per batch (docs/FLEET.md). The ms such a batch still waits; 0 sends now.
   */
  private lingerLeftMs(): number {
    const { lingerMs } = this.config.uplink;
    if (lingerMs <= 0 || this.flushNow) return 0;
    return Math.max(0, this.lastBatchAt + lingerMs - this.mono());
  }

  /** Wakes the send loop once the linger is over. */
  private wakeAfter(ms: number): void {
    this.lingerTimer ??= setTimeout(() => {
      this.lingerTimer = undefined;
      this.pump();
    }, Math.ceil(ms));
  }

  private resendFromStart(reason: string): void {
    const dropped = this.inFlight.retireAll();
    this.cursor = 0;
    this.lastBatchAt = -Infinity;
    if (dropped > 0) {
      this.count('batchesResent', dropped);
      this.log.debug({ dropped, reason }, 'in-flight batches dropped; unsettled rows will be sent again');
    }
  }

  private checkAckTimeout(): void {
    if (!this.link?.ready || this.stopping) return;
    const now = this.mono();
    const oldest = this.inFlight.oldest();
    if (oldest && this.ackWait.overdue(now, oldest.sentAt)) {
      this.count('ackTimeouts');
      const { lastAckAt, srttMs } = this.ackWait;
      this.log.warn(
        {
          batchId: oldest.batchId,
          waitedMs: now - oldest.sentAt,
          sinceLastAckMs: lastAckAt === null ? null : now - lastAckAt,
          inFlight: this.inFlight.size,
          ackRttMs: srttMs === null ? null : Math.round(srttMs),
          nextWaitMs: this.ackWait.resent(),
        },
        'no ack from the hub within uplink.ackTimeoutMs (or twice the usual ack time, doubled after each resend without an ack, up to uplink.ackMaxWaitMs) — resending unsettled events (the hub drops duplicates)',
      );
      this.resendFromStart('ack timeout');
      this.releaseDrainWaiters();
      this.pump();
    }
  }

  // ---- acks ------------------------------------------------------------------------------------

  private onMessage(topic: string, payload: Buffer): void {
    if (topic !== this.topics.acks) {
      this.log.debug({ topic }, 'ignoring message on a topic the agent does not handle yet');
      return;
    }
    const parsed = parseAck(payload);
    if (!parsed.ok) {
      this.count('acksInvalid');
      this.log.warn({ err: parsed.reason, bytes: payload.length }, 'ignoring an invalid ack from the hub');
      return;
    }
    const { ack } = parsed;
    const found = this.inFlight.take(ack.batchId);
    if (!found) {
      this.count('acksUnknown');
      this.log.debug({ batchId: ack.batchId }, 'ack for an unknown batch (late, after a resend) ignored');
      return;
    }
    const { batch, retired } = found;
    this.ackWait.acked(this.mono(), batch.sentAt);
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
    const client = this.link?.client;
    if (!client) return;
    let payload: string;
    try {
      payload = JSON.stringify(buildOnlineStatus(this.outbox.stats(), this.clock(), this.agentVersion, this.sensors?.(), this.detector?.()));
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

