import { Counter, Histogram, Registry } from 'prom-client';

export type RejectReason = 'json' | 'envelope' | 'device_mismatch' | 'event';

export interface IngestMetrics {
  stored: Counter;
  duplicates: Counter;
  /** One per quarantine row: a whole payload (json, envelope, device_mismatch) or one event. */
  rejected: Counter<'reason'>;
  batches: Counter<'channel'>;
  duration: Histogram<'channel'>;
}

/** Reuses metrics already on the registry so several service instances can share one /metrics. */
function getOrCreate<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

export function ingestMetrics(registry: Registry = new Registry()): IngestMetrics {
  const registers = [registry];
  return {
    stored: getOrCreate(registry, 'roadwatch_hub_events_stored_total', () =>
      new Counter({ name: 'roadwatch_hub_events_stored_total', help: 'Events inserted into detections', registers }),
    ),
    duplicates: getOrCreate(registry, 'roadwatch_hub_events_duplicates_total', () =>
      new Counter({ name: 'roadwatch_hub_events_duplicates_total', help: 'Valid events already stored (redeliveries)', registers }),
    ),
    rejected: getOrCreate(registry, 'roadwatch_hub_events_rejected_total', () =>
      new Counter({
        name: 'roadwatch_hub_events_rejected_total',
        help: 'Quarantined payloads (whole batches) and events, by reason',
        labelNames: ['reason'] as const,
        registers,
      }),
    ),
    batches: getOrCreate(registry, 'roadwatch_hub_batches_total', () =>
      new Counter({ name: 'roadwatch_hub_batches_total', help: 'Batch payloads received', labelNames: ['channel'] as const, registers }),
    ),
    duration: getOrCreate(registry, 'roadwatch_hub_ingest_duration_seconds', () =>
      new Histogram({
        name: 'roadwatch_hub_ingest_duration_seconds',
        help: 'Time from payload received to ack ready (transaction committed)',
        labelNames: ['channel'] as const,
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers,
      }),
    ),
  };
}
