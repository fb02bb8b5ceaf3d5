import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Aedes, type AedesOptions } from 'aedes';
import { BatchSchema, PROTOCOL_VERSION, allDevicesTopic, deviceTopic, parseDeviceTopic, type Ack, type Batch } from '@roadwatch/shared';

export type AckMode = 'ack' | 'hold' | 'never';

export interface ReceivedBatch {
  deviceId: string;
  batchId: string;
  seqs: number[];
  eventIds: string[];
  bytes: number;
}

/**
 * A real aedes broker on a TCP port acting as a minimal hub: it validates every batch on
 * `roadwatch/v1/devices/+/events`, remembers eventIds (dedupe) and answers on the device's acks topic.
 * `mode`: 'ack' answers at once, 'hold' keeps answers until releaseAcks(), 'never' drops them.
 */
export class FakeHub {
  readonly batches: ReceivedBatch[] = [];
  readonly stored = new Map<string, number>();
  duplicates = 0;
  /** Why each invalid batch failed validation (a test expects this to stay empty). */
  readonly invalid: string[] = [];
  /** Batches received and not yet acked, and the most ever outstanding at once. */
  outstanding = 0;
  maxOutstanding = 0;
  mode: AckMode = 'ack';
  /** With mode 'hold', acks are released automatically once this many are outstanding. */
  releaseAt = Number.POSITIVE_INFINITY;
  /** Batches to lose (neither stored nor acked, as by a hub replica killed with them in hand) before the mode applies. */
  loseNext = 0;
  private held: Array<() => void> = [];
  private sockets = new Set<Socket>();

  private constructor(
    readonly broker: Aedes,
    private readonly server: Server,
    readonly port: number,
  ) {}

  /**
   * `secrets`: device id → secret. When given, the broker checks credentials like the real hub:
   * client id = username = a listed device id and the password its secret, else CONNACK 4 (bad user
   * name or password). Without it every client is accepted.
   */
  static async start(options: { port?: number; aedes?: AedesOptions; mode?: AckMode; secrets?: Record<string, string> } = {}): Promise<FakeHub> {
    const { secrets } = options;
    const authenticate: AedesOptions['authenticate'] = secrets
      ? (client, username, password, done) => {
          const ok = username !== undefined && username === client.id && Object.hasOwn(secrets, username) && password?.toString('utf8') === secrets[username];
          if (ok) return done(null, true);
          done(Object.assign(new Error('bad user name or password'), { returnCode: 4 }) as Parameters<typeof done>[0], false);
        }
      : undefined;
    const broker = await Aedes.createBroker({ ...options.aedes, ...(authenticate ? { authenticate } : {}) });
    const server = createServer(broker.handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const hub = new FakeHub(broker, server, (server.address() as AddressInfo).port);
    if (options.mode) hub.mode = options.mode;
    server.on('connection', (socket) => {
      hub.sockets.add(socket);
      socket.on('close', () => hub.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => broker.subscribe(allDevicesTopic('events'), (packet, cb) => {
      hub.onBatch(packet.topic, Buffer.from(packet.payload));
      cb();
    }, resolve));
    return hub;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Every eventId the hub has stored, once each. */
  get storedCount(): number {
    return this.stored.size;
  }

  releaseAcks(): void {
    const held = this.held;
    this.held = [];
    for (const send of held) send();
  }

  /** Publishes a raw payload on a device's acks topic (to test bad acks). */
  publishRawAck(deviceId: string, payload: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.broker.publish({ cmd: 'publish', topic: deviceTopic(deviceId, 'acks'), payload: Buffer.from(payload), qos: 1, retain: false, dup: false }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onBatch(topic: string, payload: Buffer): void {
    const parsed = parseDeviceTopic(topic);
    if (!parsed) return;
    let batch: Batch;
    try {
      batch = BatchSchema.parse(JSON.parse(payload.toString('utf8')));
    } catch (error) {
      this.invalid.push((error as Error).message);
      return;
    }
    this.batches.push({
      deviceId: batch.deviceId,
      batchId: batch.batchId,
      seqs: batch.events.map((e) => e.seq),
      eventIds: batch.events.map((e) => e.eventId),
      bytes: payload.length,
    });
    this.outstanding += 1;
    this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
    const send = (): void => {
      this.outstanding -= 1;
      const stored: string[] = [];
      let duplicates = 0;
      for (const e of batch.events) {
        if (this.stored.has(e.eventId)) duplicates += 1;
        else {
          this.stored.set(e.eventId, e.seq);
          stored.push(e.eventId);
        }
      }
      this.duplicates += duplicates;
      const ack: Ack = { v: PROTOCOL_VERSION, batchId: batch.batchId, stored, duplicates, rejected: [] };
      void this.publishRawAck(parsed.deviceId, JSON.stringify(ack));
    };
    if (this.mode === 'never' || this.loseNext > 0) {
      if (this.mode !== 'never') this.loseNext -= 1;
      this.outstanding -= 1;
      return;
    }
    if (this.mode === 'hold') {
      this.held.push(send);
      if (this.held.length >= this.releaseAt) this.releaseAcks();
      return;
    }
    send();
  }
}
