import type { Ack } from '@roadwatch/shared';
import type { Logger } from 'pino';
import type { BatchIngest } from '../services/ports.js';
import { Limiter } from './limiter.js';
import type { BrokerMetrics } from './metrics.js';

export interface IngestBridgeOptions {
  ingest: BatchIngest;
  /** Publishes an ack (QoS 1, not retained) to the device's `acks` topic. */
  publishAck: (deviceId: string, ack: Ack) => Promise<void>;
  maxPayloadBytes: number;
  concurrency: number;
  logger: Logger;
  metrics: Pick<BrokerMetrics, 'dropped' | 'batches' | 'ingestInFlight' | 'ingestWaiting'>;
}

/**
 * Turns batches received on `…/{deviceId}/events` into ingests and acks.
 *
 * - The device id is the topic's, which the ACL bound to the authenticated client id.
 * - At most `concurrency` ingests run at once. `accept` resolves only when the batch has a slot;
 *   the broker calls aedes's `published` callback then, so until there is room aedes reads no
 *   further packets from that client (TCP backpressure) and memory stays bounded.
 * - An ack is published only after the ingest's transaction committed. A failed ingest (database
 *   down) is logged and counted and NOT acked: the agent resends the batch later.
 * - The slot bounds database work: it is released when the ingest settles, before the ack is
 *   confirmed. (With an external broker the ack's PUBACK arrives on the same connection as the
 *   batches, behind any batch waiting for a slot; holding the slot until then could deadlock.)
 *   `drain` still waits for the ack publishes.
 */
export class IngestBridge {
  readonly #options: IngestBridgeOptions;
  readonly #limiter: Limiter;
  readonly #log: Logger;
  /** Ack publishes not yet confirmed (they no longer hold a slot). */
  readonly #acking = new Set<Promise<void>>();

  constructor(options: IngestBridgeOptions) {
    this.#options = options;
    this.#limiter = new Limiter(options.concurrency);
    this.#log = options.logger;
  }

  get inFlight(): number {
    return this.#limiter.active;
  }

  /** Admits one batch; resolves once it is running (or was dropped). Never rejects. */
  async accept(deviceId: string, payload: Buffer): Promise<void> {
    const { maxPayloadBytes, metrics } = this.#options;
    if (payload.length > maxPayloadBytes) {
      metrics.dropped.inc({ channel: 'events', reason: 'oversized' });
      this.#log.warn({ deviceId, bytes: payload.length, maxPayloadBytes }, 'batch dropped: payload larger than mqtt.maxPayloadBytes (not acked)');
      return;
    }
    metrics.ingestWaiting.inc();
    const release = await this.#limiter.acquire();
    metrics.ingestWaiting.dec();
    metrics.ingestInFlight.inc();
    void this.#run(deviceId, payload).finally(() => {
      metrics.ingestInFlight.dec();
      release();
    });
  }

  /** Resolves when every admitted batch has finished (ingested and its ack published, or failed). */
  async drain(): Promise<void> {
    await this.#limiter.idle();
    while (this.#acking.size > 0) await Promise.all([...this.#acking]);
  }

  async #run(deviceId: string, payload: Buffer): Promise<void> {
    const { ingest, publishAck, metrics } = this.#options;
    let outcome;
    try {
      outcome = await ingest.ingest(deviceId, payload, 'mqtt');
    } catch (error) {
      metrics.batches.inc({ result: 'error' });
      this.#log.error({ deviceId, bytes: payload.length, err: error }, 'batch ingest failed; not acked, the agent will resend it');
      return;
    }
    const { ack } = outcome;
    if (!ack) {
      metrics.batches.inc({ result: 'unackable' });
      metrics.dropped.inc({ channel: 'events', reason: 'unparseable' });
      this.#log.warn({ deviceId, bytes: payload.length }, 'batch without a usable batchId (not JSON or no id): quarantined, cannot be acked');
      return;
    }
    metrics.batches.inc({ result: 'acked' });
    // The ingest service already logged and counted quarantined events and whole-batch rejections.
    const publishing = publishAck(deviceId, ack).catch((error: unknown) => {
      // The rows are committed; the agent resends and gets the ack as duplicates.
      this.#log.warn({ deviceId, batchId: ack.batchId, err: error }, 'could not publish ack');
    });
    this.#acking.add(publishing);
    void publishing.finally(() => this.#acking.delete(publishing));
  }
}
