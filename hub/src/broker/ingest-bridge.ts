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
  metrics: Pick<BrokerMetrics, 'dropped' | 'batches' | 'events' | 'ingestSeconds' | 'ingestInFlight' | 'ingestWaiting'>;
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
 */
export class IngestBridge {
  readonly #options: IngestBridgeOptions;
  readonly #limiter: Limiter;
  readonly #log: Logger;

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

  /** Resolves when every admitted batch has finished (ingested and acked, or failed). */
  drain(): Promise<void> {
    return this.#limiter.idle();
  }

  async #run(deviceId: string, payload: Buffer): Promise<void> {
    const { ingest, publishAck, metrics } = this.#options;
    const stopTimer = metrics.ingestSeconds.startTimer();
    let outcome;
    try {
      outcome = await ingest.ingest(deviceId, payload, 'mqtt');
    } catch (error) {
      stopTimer({ result: 'error' });
      metrics.batches.inc({ result: 'error' });
      this.#log.error({ deviceId, bytes: payload.length, err: error }, 'batch ingest failed; not acked, the agent will resend it');
      return;
    }
    stopTimer({ result: 'ok' });
    metrics.events.inc({ outcome: 'stored' }, outcome.stored);
    metrics.events.inc({ outcome: 'duplicate' }, outcome.duplicates);
    metrics.events.inc({ outcome: 'rejected' }, outcome.rejected);
    const { ack } = outcome;
    if (!ack) {
      metrics.batches.inc({ result: 'unackable' });
      metrics.dropped.inc({ channel: 'events', reason: 'unparseable' });
      this.#log.warn({ deviceId, bytes: payload.length }, 'batch without a usable batchId (not JSON or no id): quarantined, cannot be acked');
      return;
    }
    metrics.batches.inc({ result: 'acked' });
    if (ack.error) this.#log.warn({ deviceId, batchId: ack.batchId, error: ack.error }, 'batch rejected whole and quarantined');
    else if (outcome.rejected > 0) this.#log.warn({ deviceId, batchId: ack.batchId, rejected: ack.rejected.slice(0, 5), count: outcome.rejected }, 'events rejected and quarantined');
    this.#log.debug({ deviceId, batchId: ack.batchId, stored: outcome.stored, duplicates: outcome.duplicates }, 'batch ingested');
    try {
      await publishAck(deviceId, ack);
    } catch (error) {
      // The rows are committed; the agent resends and gets the ack as duplicates.
      this.#log.warn({ deviceId, batchId: ack.batchId, err: error }, 'could not publish ack');
    }
  }
}
