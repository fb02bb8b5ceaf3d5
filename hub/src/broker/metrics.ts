import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The broker's Prometheus series, registered on the injected registry (one broker per registry). */
export interface BrokerMetrics {
  authFailures: Counter<'reason'>;
  aclDenied: Counter<'action'>;
  /** Payloads dropped before or instead of being ingested or recorded. */
  dropped: Counter<'channel' | 'reason'>;
  batches: Counter<'result'>;
  events: Counter<'outcome'>;
  ingestSeconds: Histogram<'result'>;
  ingestInFlight: Gauge;
  ingestWaiting: Gauge;
  statusUpdates: Counter<'result'>;
  clients: Gauge;
}

export function createBrokerMetrics(registry: Registry): BrokerMetrics {
  const registers = [registry];
  return {
    authFailures: new Counter({
      name: 'roadwatch_hub_auth_failures_total',
      help: 'MQTT connections refused, by reason',
      labelNames: ['reason'],
      registers,
    }),
    aclDenied: new Counter({
      name: 'roadwatch_hub_acl_denied_total',
      help: 'MQTT publishes and subscriptions denied by the ACL',
      labelNames: ['action'],
      registers,
    }),
    dropped: new Counter({
      name: 'roadwatch_hub_mqtt_dropped_total',
      help: 'MQTT payloads dropped without being stored, by channel and reason',
      labelNames: ['channel', 'reason'],
      registers,
    }),
    batches: new Counter({
      name: 'roadwatch_hub_ingest_batches_total',
      help: 'Batches received over MQTT, by result (acked, unackable, error)',
      labelNames: ['result'],
      registers,
    }),
    events: new Counter({
      name: 'roadwatch_hub_ingest_events_total',
      help: 'Events settled by MQTT batch acks, by outcome (stored, duplicate, rejected)',
      labelNames: ['outcome'],
      registers,
    }),
    ingestSeconds: new Histogram({
      name: 'roadwatch_hub_ingest_duration_seconds',
      help: 'Time to ingest one MQTT batch (one transaction)',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    ingestInFlight: new Gauge({ name: 'roadwatch_hub_ingest_in_flight', help: 'Batches being ingested now', registers }),
    ingestWaiting: new Gauge({
      name: 'roadwatch_hub_ingest_waiting',
      help: 'Batches received and waiting for an ingest slot (their clients are paused meanwhile)',
      registers,
    }),
    statusUpdates: new Counter({
      name: 'roadwatch_hub_status_updates_total',
      help: 'Device status messages, by result (recorded, invalid, error)',
      labelNames: ['result'],
      registers,
    }),
    clients: new Gauge({ name: 'roadwatch_hub_mqtt_clients', help: 'Authenticated MQTT clients connected now', registers }),
  };
}
