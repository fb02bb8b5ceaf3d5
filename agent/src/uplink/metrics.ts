import { Counter, Gauge, type Registry } from 'prom-client';

export type UplinkState = 'connecting' | 'online' | 'backoff' | 'stopped';
export const UPLINK_STATES: readonly UplinkState[] = ['connecting', 'online', 'backoff', 'stopped'];

/** Monotonic counters of the uplink (also exposed as Prometheus `roadwatch_uplink_*_total`). */
export interface UplinkCounters {
  batchesSent: number;
  batchesAcked: number;
  /** Batches dropped from in-flight (link lost or ack timeout) whose rows are sent again. */
  batchesResent: number;
  ackTimeouts: number;
  eventsSettled: number;
  /** Acks that were not JSON or failed AckSchema. */
  acksInvalid: number;
  /** Acks for batchIds this process no longer knows (late, after a resend). */
  acksUnknown: number;
  /** Events the hub rejected (quarantined) in its acks. */
  eventsRejected: number;
  connects: number;
  connectFailures: number;
  authFailures: number;
  outboxErrors: number;
}

export const zeroCounters = (): UplinkCounters => ({
  batchesSent: 0,
  batchesAcked: 0,
  batchesResent: 0,
  ackTimeouts: 0,
  eventsSettled: 0,
  acksInvalid: 0,
  acksUnknown: 0,
  eventsRejected: 0,
  connects: 0,
  connectFailures: 0,
  authFailures: 0,
  outboxErrors: 0,
});

const HELP: Record<keyof UplinkCounters, string> = {
  batchesSent: 'Batches published to the hub',
  batchesAcked: 'Batches acknowledged by the hub',
  batchesResent: 'In-flight batches abandoned (link lost or ack timeout) whose events are sent again',
  ackTimeouts: 'Times the oldest in-flight batch got no ack within uplink.ackTimeoutMs',
  eventsSettled: 'Outbox rows removed because the hub acked them',
  acksInvalid: 'Ack payloads that were not valid protocol v1 acks',
  acksUnknown: 'Acks for batch ids no longer tracked (late acks after a resend)',
  eventsRejected: 'Events the hub rejected and quarantined',
  connects: 'Successful MQTT connections to the hub',
  connectFailures: 'Failed or lost MQTT connections',
  authFailures: 'Connections refused because the hub rejected the device credentials',
  outboxErrors: 'Errors reading or settling the outbox',
};

const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export type CounterSink = (name: keyof UplinkCounters, by: number) => void;

/** Registers the uplink's metrics on `registry`; returns the sink that mirrors counter increments. */
export function registerUplinkMetrics(
  registry: Registry,
  read: () => { state: UplinkState; inFlight: number },
): CounterSink {
  // A new uplink on the same registry (agent restarted in-process) takes the names over.
  const names = [...Object.keys(HELP).map((k) => `roadwatch_uplink_${snake(k)}_total`), 'roadwatch_uplink_state', 'roadwatch_uplink_in_flight_batches'];
  for (const name of names) registry.removeSingleMetric(name);
  const counters = new Map<keyof UplinkCounters, Counter>();
  for (const key of Object.keys(HELP) as (keyof UplinkCounters)[]) {
    counters.set(key, new Counter({ name: `roadwatch_uplink_${snake(key)}_total`, help: HELP[key], registers: [registry] }));
  }
  new Gauge({
    name: 'roadwatch_uplink_state',
    help: 'Uplink state (1 for the current one)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const current = read().state;
      for (const s of UPLINK_STATES) this.set({ state: s }, s === current ? 1 : 0);
    },
  });
  new Gauge({
    name: 'roadwatch_uplink_in_flight_batches',
    help: 'Batches published and waiting for an ack',
    registers: [registry],
    collect() {
      this.set(read().inFlight);
    },
  });
  return (name, by) => counters.get(name)?.inc(by);
}
