import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The broker's Prometheus series, on the injected registry. Event counts (stored, duplicates,
 * rejected) and ingest latency are the ingest service's own series; these cover the MQTT side.
 */
export interface BrokerMetrics {
  authFailures: Counter<'reason'>;
  aclDenied: Counter<'action'>;
  /** Payloads dropped before or instead of being ingested or recorded. */
  dropped: Counter<'channel' | 'reason'>;
  batches: Counter<'result'>;
  ingestInFlight: Gauge;
  ingestWaiting: Gauge;
  statusUpdates: Counter<'result'>;
  clients: Gauge;
}

/** Reuses series already on the registry, so a broker restarted in one process keeps counting. */
function getOrCreate<T>(registry: Registry, name: string, create: (name: string) => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create(name);
}

export function createBrokerMetrics(registry: Registry): BrokerMetrics {
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> =>
    getOrCreate(registry, name, () => new Counter({ name, help, labelNames, registers }));
  const gauge = (name: string, help: string): Gauge => getOrCreate(registry, name, () => new Gauge({ name, help, registers }));
  return {
    authFailures: counter('roadwatch_hub_auth_failures_total', 'MQTT connections refused, by reason', ['reason']),
    aclDenied: counter('roadwatch_hub_acl_denied_total', 'MQTT publishes and subscriptions denied by the ACL', ['action']),
    dropped: counter('roadwatch_hub_mqtt_dropped_total', 'MQTT payloads dropped without being stored, by channel and reason', ['channel', 'reason']),
    batches: counter('roadwatch_hub_mqtt_batches_total', 'MQTT batches by result: acked, unackable (no batchId), error (not acked)', ['result']),
    ingestInFlight: gauge('roadwatch_hub_mqtt_ingest_in_flight', 'MQTT batches being ingested now'),
    ingestWaiting: gauge('roadwatch_hub_mqtt_ingest_waiting', 'MQTT batches waiting for an ingest slot (their clients are paused meanwhile)'),
    statusUpdates: counter('roadwatch_hub_mqtt_status_total', 'Device status messages by result: recorded, invalid, error', ['result']),
    clients: gauge('roadwatch_hub_mqtt_clients', 'Authenticated MQTT clients connected now'),
  };
}
