// One simulated vehicle: a real mqtt.js client speaking the agent's uplink protocol (docs/PROTOCOL.md,
// agent/src/uplink): MQTT 3.1.1, client id = user name = device id, persistent session, QoS 1
// batches on its `events` topic with up to `maxInFlight` awaiting their ack, acks on `acks`, a
// retained status on connect (and every `statusIntervalMs`) with the `offline` last will. Unacked
// batches are sent again under a new batch id after a lost link or an ack timeout, as the agent does,
// so the hub sees duplicates and must store each event once.
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { OFFLINE_STATUS, deviceTopic, newBatchId, type Status } from '@roadwatch/shared';
import { buildBatchPayload } from '../../agent/src/uplink/batch.js';
import { parseAck } from '../../agent/src/uplink/ack.js';
import { AckWait } from '../../agent/src/uplink/in-flight.js';
import { RoadEventSource } from './events.js';
import type { FleetStats } from './stats.js';

export interface VehicleOptions {
  url: string;
  deviceId: string;
  secret: string;
  stats: FleetStats;
  source: RoadEventSource;
  /** Events a batch carries at most (the agent's uplink.batchMaxEvents, 500). */
  batchEvents: number;
  /** Batches awaiting their ack at most (the agent's uplink.maxInFlight, 4). */
  maxInFlight: number;
  /** Resend every unacked batch when no ack came for this long (the agent's uplink.ackTimeoutMs, 30 s; see ackOverdue)… */
  ackTimeoutMs: number;
  /** …or the oldest waited this long although acks came (the agent's uplink.ackMaxWaitMs, default 240 s). */
  ackMaxWaitMs?: number;
  /** 0: a status on connect only. */
  statusIntervalMs: number;
  /** Timestamp (epoch ms) of the next event generated. */
  nextTs: () => number;
  /** Flap mode: chance that the vehicle cuts its link just after publishing a batch. */
  dropAfterPublish?: number;
  /** Delay before reconnecting after a lost link, ms (uniform in [min, max]). */
  reconnectDelayMs?: readonly [number, number];
  random?: () => number;
  keepaliveS?: number;
  connectTimeoutMs?: number;
}

interface PendingBatch {
  payload: Buffer;
  events: number;
  /** Every batch id this batch was sent under → when that copy was published (performance.now()). */
  copies: Map<string, number>;
  lastPublishedAt: number;
}

const SAMPLE_ID = '00000000-0000-7000-8000-000000000000';
const SAMPLE_ISO = '2000-01-01T00:00:00.000Z';

export class SimVehicle {
  readonly deviceId: string;
  /** Events generated and handed to a batch so far = the highest seq. */
  get generated(): number {
    return this.o.source.seq;
  }
  /** Events waiting to be put into a batch. */
  backlog = 0;
  settled = 0;
  online = false;
  closed = false;
  connects = 0;
  /** ms from the connect call to CONNACK + SUBACK of the first connection. */
  firstConnectMs: number | null = null;

  private client: MqttClient | null = null;
  private readonly pending = new Map<string, PendingBatch>();
  private readonly topics: { events: string; acks: string; status: string };
  private readonly idOffset: number;
  private readonly sentAtOffset: number;
  private statusTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private lastAckAt: string | null = null;
  /** Acks that settled a batch, on performance.now(): the agent's adaptive ack timeout (AckWait). */
  private readonly ackWait: AckWait;
  private firstOnline: (() => void) | null = null;
  private droppedOnPurpose = false;
  private connectStarted = 0;
  private readonly random: () => number;

  constructor(private readonly o: VehicleOptions) {
    this.deviceId = o.deviceId;
    this.random = o.random ?? Math.random;
    this.ackWait = new AckWait(o.ackTimeoutMs, o.ackMaxWaitMs ?? 240_000);
    this.seqBefore = o.source.seq;
    this.topics = { events: deviceTopic(o.deviceId, 'events'), acks: deviceTopic(o.deviceId, 'acks'), status: deviceTopic(o.deviceId, 'status') };
    const sample = buildBatchPayload({ deviceId: o.deviceId, batchId: SAMPLE_ID, sentAt: SAMPLE_ISO, payloads: [] });
    this.idOffset = Buffer.byteLength(sample.slice(0, sample.indexOf(SAMPLE_ID)));
    this.sentAtOffset = Buffer.byteLength(sample.slice(0, sample.indexOf(SAMPLE_ISO)));
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** The seq the vehicle started this run from. */
  readonly seqBefore: number;
  /** Events not yet settled by an ack: waiting for a batch, or in one awaiting its ack. */
  get unsettled(): number {
    let n = this.backlog;
    for (const b of this.pending.values()) n += b.events;
    return n;
  }

  /** Connects and resolves once online (CONNACK, acks subscribed); retries until then. */
  start(): Promise<void> {
    this.connectStarted = performance.now();
    const online = new Promise<void>((resolve) => (this.firstOnline = resolve));
    this.openLink();
    if (this.o.statusIntervalMs > 0) {
      const first = this.random() * this.o.statusIntervalMs;
      this.statusTimer = setTimeout(() => {
        this.statusTimer = setInterval(() => this.publishStatus(), this.o.statusIntervalMs);
      }, first);
    }
    return online;
  }

  /** Queues `n` more events (generated when they are put into a batch) and sends what the window allows. */
  produce(n: number): void {
    this.backlog += n;
    this.pump();
  }

  /** Cuts the link without a DISCONNECT (the broker publishes the last will) and reconnects later. */
  drop(): void {
    if (!this.client || !this.online) return;
    this.o.stats.drops += 1;
    this.droppedOnPurpose = true;
    this.client.stream.destroy();
  }

  /** Resends every pending batch when the oldest copy waited longer than the ack timeout. */
  checkAckTimeout(now: number): void {
    if (!this.online || this.pending.size === 0) return;
    let oldest = Infinity;
    for (const b of this.pending.values()) oldest = Math.min(oldest, b.lastPublishedAt);
    if (!this.ackWait.overdue(now, oldest)) return;
    this.o.stats.ackTimeouts += 1;
    this.ackWait.resent();
    this.resendPending();
  }

  /** Publishes `offline` (retained) and ends the connection. */
  async stop(): Promise<void> {
    this.closed = true;
    clearTimeout(this.statusTimer);
    clearInterval(this.statusTimer);
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = null;
    this.online = false;
    if (!client) return;
    if (client.connected) {
      await client.publishAsync(this.topics.status, JSON.stringify(OFFLINE_STATUS), { qos: 1, retain: true }).catch(() => undefined);
      await client.endAsync().catch(() => undefined);
    } else {
      await client.endAsync(true).catch(() => undefined);
    }
  }

  private openLink(): void {
    if (this.closed) return;
    const options: IClientOptions = {
      clientId: this.deviceId,
      username: this.deviceId,
      password: this.o.secret,
      clean: false,
      protocolVersion: 4,
      keepalive: this.o.keepaliveS ?? 60,
      reconnectPeriod: 0,
      connectTimeout: this.o.connectTimeoutMs ?? 60_000,
      queueQoSZero: false,
      resubscribe: false,
      will: { topic: this.topics.status, payload: Buffer.from(JSON.stringify(OFFLINE_STATUS)), qos: 1, retain: true },
    };
    const client = connect(this.o.url, options);
    this.client = client;
    client.on('connect', () => {
      if (this.client !== client) return;
      client.subscribe(this.topics.acks, { qos: 1 }, (err) => {
        if (err || this.client !== client) return;
        this.connects += 1;
        this.o.stats.connects += 1;
        this.online = true;
        if (this.firstConnectMs === null) this.firstConnectMs = performance.now() - this.connectStarted;
        this.publishStatus();
        this.firstOnline?.();
        this.firstOnline = null;
        // Whatever was in flight on the previous link is sent again (its acks may never come).
        if (this.pending.size > 0) this.resendPending();
        this.pump();
      });
    });
    client.on('message', (_topic, payload) => this.onAck(payload));
    client.on('error', (err) => {
      this.o.stats.lastError = `${this.deviceId}: ${err.message}`;
      if (!this.online) this.o.stats.connectErrors += 1;
    });
    client.on('close', () => {
      if (this.client !== client) return;
      const wasOnline = this.online;
      this.online = false;
      this.client = null;
      if (wasOnline && !this.closed && !this.droppedOnPurpose) this.o.stats.linkLosses += 1;
      this.droppedOnPurpose = false;
      // As the agent: acks for the batch ids of a lost link are no longer matched (they count as late).
      for (const b of this.pending.values()) b.copies.clear();
      client.removeAllListeners('connect');
      client.end(true);
      if (this.closed) return;
      const [min, max] = this.o.reconnectDelayMs ?? [500, 3_000];
      const delay = wasOnline ? min + this.random() * (max - min) : 1_000 + this.random() * 2_000;
      this.reconnectTimer = setTimeout(() => this.openLink(), delay);
    });
  }

  private publishStatus(): void {
    const client = this.client;
    if (!client || !this.online) return;
    let queueBytes = 0;
    for (const b of this.pending.values()) queueBytes += b.payload.length;
    const status: Status = {
      v: 1,
      state: 'online',
      ts: new Date().toISOString(),
      agentVersion: 'fleet-sim',
      queueDepth: this.unsettled,
      queueBytes: queueBytes + this.backlog * 330,
      oldestUnsyncedAgeS: this.unsettled > 0 ? 1 : null,
      lastAckAt: this.lastAckAt,
      evictedTotal: 0,
      sensors: { camera: 'ok', gps: 'ok' },
    };
    client.publish(this.topics.status, JSON.stringify(status), { qos: 1, retain: true });
    this.o.stats.statusesSent += 1;
  }

  private pump(): void {
    const client = this.client;
    while (client && this.online && this.backlog > 0 && this.pending.size < this.o.maxInFlight) {
      const n = Math.min(this.o.batchEvents, this.backlog);
      this.backlog -= n;
      const payloads: string[] = new Array(n);
      const ids = this.o.stats.eventIds;
      for (let i = 0; i < n; i++) {
        const event = this.o.source.next(this.o.nextTs());
        if (ids) ids.add(event.eventId);
        payloads[i] = JSON.stringify(event);
      }
      const batchId = newBatchId();
      const payload = Buffer.from(buildBatchPayload({ deviceId: this.deviceId, batchId, sentAt: new Date().toISOString(), payloads }));
      const batch: PendingBatch = { payload, events: n, copies: new Map(), lastPublishedAt: 0 };
      this.pending.set(batchId, batch);
      this.o.stats.batchesSent += 1;
      this.publish(client, batchId, batch);
    }
  }

  private publish(client: MqttClient, batchId: string, batch: PendingBatch): void {
    const now = performance.now();
    batch.copies.set(batchId, now);
    batch.lastPublishedAt = now;
    const drop = this.o.dropAfterPublish ?? 0;
    client.publish(this.topics.events, batch.payload, { qos: 1 });
    // Flap: the link dies just after the batch went out. The broker may well have it, and the hub
    // store it; its ack then waits in the vehicle's session, but like the agent the vehicle forgets
    // the batch ids of a lost link and sends the events again: duplicates the hub must absorb.
    if (drop > 0 && this.random() < drop) setTimeout(() => this.client === client && this.drop(), 1);
  }

  /** Every pending batch again, each under a new batch id and sentAt (the payload is otherwise the same bytes). */
  private resendPending(): void {
    const client = this.client;
    if (!client || !this.online) return;
    for (const [oldId, batch] of [...this.pending]) {
      const batchId = newBatchId();
      const payload = Buffer.from(batch.payload);
      payload.write(batchId, this.idOffset, 'latin1');
      payload.write(new Date().toISOString(), this.sentAtOffset, 'latin1');
      batch.payload = payload;
      this.pending.delete(oldId);
      this.pending.set(batchId, batch);
      this.o.stats.batchesResent += 1;
      this.publish(client, batchId, batch);
    }
  }

  private onAck(payload: Buffer): void {
    const parsed = parseAck(payload);
    const stats = this.o.stats;
    if (!parsed.ok) {
      stats.acksInvalid += 1;
      return;
    }
    const { ack } = parsed;
    stats.ackedStored += ack.stored.length;
    stats.ackedDuplicates += ack.duplicates;
    stats.ackedRejected += ack.rejected.length;
    if (ack.error) stats.ackErrors += 1;
    let batch = this.pending.get(ack.batchId);
    let key = ack.batchId;
    if (batch && !batch.copies.has(ack.batchId)) batch = undefined;
    if (!batch) {
      // An ack for an earlier copy (same link) of a batch resent after an ack timeout still settles it.
      for (const [k, b] of this.pending) {
        if (b.copies.has(ack.batchId)) {
          batch = b;
          key = k;
          break;
        }
      }
    }
    if (!batch) {
      stats.acksLate += 1;
      return;
    }
    const now = performance.now();
    const sentAt = batch.copies.get(ack.batchId)!;
    this.ackWait.acked(now, sentAt);
    this.pending.delete(key);
    this.settled += batch.events;
    this.lastAckAt = new Date().toISOString();
    stats.onSettled(now - sentAt, batch.events, now);
    this.pump();
  }
}
