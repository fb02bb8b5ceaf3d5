import type { Ack, DeviceChannel } from '@roadwatch/shared';
import type { Logger } from 'pino';
import type { BatchIngest, StatusRecorder } from '../services/ports.js';
import { IngestBridge } from './ingest-bridge.js';
import type { BrokerMetrics } from './metrics.js';
import { StatusBridge } from './status-bridge.js';

export interface DeviceInboxOptions {
  services: { ingest: BatchIngest; status: StatusRecorder };
  /** Publishes an ack (QoS 1, not retained) to the device's `acks` topic; resolves when the broker took it. */
  publishAck: (deviceId: string, ack: Ack) => Promise<void>;
  maxPayloadBytes: number;
  /** Batches ingested at once, and statuses recorded at once (mqtt.ingestConcurrency). */
  concurrency: number;
  logger: Logger;
  metrics: BrokerMetrics;
}

/**
 * The one path from a device's publish to the services, whichever broker delivered it: the
 * embedded aedes broker (`MqttBroker`) or an external one through shared subscriptions
 * (`ExternalBroker`). The transport has checked who may publish where; the device id is the
 * topic's, which the broker's ACL bound to the authenticated user.
 *
 * `accept` resolves when the message is admitted (it has an ingest or status slot), never
 * rejects, and is where each transport applies backpressure: aedes reads no further packets from
 * that client, mqtt.js processes no further packets from the external broker (and sends the
 * PUBACK then). Acks go out only after the batch's transaction committed.
 */
export class DeviceInbox {
  readonly #ingest: IngestBridge;
  readonly #status: StatusBridge;

  constructor(options: DeviceInboxOptions) {
    const { services, publishAck, maxPayloadBytes, concurrency, logger, metrics } = options;
    this.#ingest = new IngestBridge({ ingest: services.ingest, publishAck, maxPayloadBytes, concurrency, logger, metrics });
    this.#status = new StatusBridge({ status: services.status, maxPayloadBytes, concurrency, logger, metrics });
  }

  /** Batches being ingested now. */
  get inFlight(): number {
    return this.#ingest.inFlight;
  }

  /** Routes one device publish; `acks` and `commands` flow hub → device and are ignored here. */
  accept(deviceId: string, channel: DeviceChannel, payload: Buffer): Promise<void> {
    if (channel === 'events') return this.#ingest.accept(deviceId, payload);
    if (channel === 'status') return this.#status.accept(deviceId, payload);
    return Promise.resolve();
  }

  /** Resolves when every admitted batch is ingested and acked (or failed) and every admitted status is recorded. */
  async drain(): Promise<void> {
    await Promise.all([this.#ingest.drain(), this.#status.drain()]);
  }
}
