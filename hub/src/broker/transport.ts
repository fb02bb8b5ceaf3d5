/** What a device transport reports about itself, for /health/diagnostics. */
export interface TransportStats {
  /** Embedded: listening for devices. External: connected to the broker and subscribed. */
  listening: boolean;
  /** Devices connected to the embedded broker (0 with an external broker: it knows its clients). */
  clients: number;
  ingestInFlight: number;
}

/**
 * How device batches and statuses reach the hub: the embedded aedes broker (`MqttBroker`), or an
 * external MQTT 5 broker through shared subscriptions (`ExternalBroker`, scale-out mode). Both feed
 * the same `DeviceInbox`.
 */
export interface DeviceTransport {
  /** Embedded: listening. External: connected and subscribed. /health/ready reports it. */
  readonly ready: boolean;
  readonly stats: TransportStats;
  /** Resolves with the port devices connect to on this process (0 with an external broker). */
  start(): Promise<{ port: number }>;
  /** Takes no new batches, lets the admitted ones commit and be acked, then disconnects. */
  stop(): Promise<void>;
}
