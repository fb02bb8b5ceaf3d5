import { PROTOCOL_VERSION, type Ack } from '@roadwatch/shared';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { BatchIngest, StatusRecorder } from '../services/ports.js';
import { DeviceInbox } from './device-inbox.js';
import { createBrokerMetrics } from './metrics.js';

const logger = pino({ level: 'silent' });
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const ackFor = (batchId: string): Ack => ({ v: PROTOCOL_VERSION, batchId, stored: [], duplicates: 0, rejected: [] });

function inbox(parts: { ingest?: BatchIngest; status?: StatusRecorder; publishAck?: (deviceId: string, ack: Ack) => Promise<void>; concurrency?: number }) {
  return new DeviceInbox({
    services: {
      ingest: parts.ingest ?? { ingest: async (_d, payload) => ({ ack: ackFor(String(payload)), stored: 0, duplicates: 0, rejected: 0 }) },
      status: parts.status ?? { record: async () => true },
    },
    publishAck: parts.publishAck ?? (async () => undefined),
    maxPayloadBytes: 1024,
    concurrency: parts.concurrency ?? 2,
    logger,
    metrics: createBrokerMetrics(new Registry()),
  });
}

describe('DeviceInbox (shared by the embedded and the external broker)', () => {
  it('frees an ingest slot when the batch is committed, before its ack is confirmed; drain waits for the ack', async () => {
    // With an external broker the ack's PUBACK queues behind the next batch: holding the slot until then would deadlock.
    const confirm = deferred();
    const published: string[] = [];
    const box = inbox({
      concurrency: 1,
      publishAck: async (_deviceId, ack) => {
        published.push(ack.batchId);
        await confirm.promise;
      },
    });
    await box.accept('veh-1', 'events', Buffer.from('b1'));
    await box.accept('veh-1', 'events', Buffer.from('b2')); // admitted although b1's ack is unconfirmed
    await tick();
    expect(published).toEqual(['b1', 'b2']);
    let drained = false;
    void box.drain().then(() => (drained = true));
    await tick();
    expect(drained).toBe(false);
    confirm.resolve();
    await tick();
    expect(drained).toBe(true);
  });

  it('admits at most `concurrency` batches; the next waits for a slot', async () => {
    const gates = [deferred(), deferred(), deferred()];
    let calls = 0;
    const box = inbox({
      concurrency: 2,
      ingest: {
        ingest: async (_d, payload) => {
          await gates[calls++]!.promise;
          return { ack: ackFor(String(payload)), stored: 0, duplicates: 0, rejected: 0 };
        },
      },
    });
    await box.accept('veh-1', 'events', Buffer.from('b1'));
    await box.accept('veh-1', 'events', Buffer.from('b2'));
    let third = false;
    void box.accept('veh-1', 'events', Buffer.from('b3')).then(() => (third = true));
    await tick();
    expect(box.inFlight).toBe(2);
    expect(third).toBe(false);
    gates[0]!.resolve();
    await tick();
    expect(third).toBe(true);
    gates[1]!.resolve();
    gates[2]!.resolve();
    await box.drain();
    expect(box.inFlight).toBe(0);
  });

  it("records one device's statuses in arrival order, other devices' in parallel, at most `concurrency` at once", async () => {
    const order: string[] = [];
    const slow = deferred();
    let running = 0;
    let peak = 0;
    const box = inbox({
      concurrency: 3,
      status: {
        record: async (deviceId, payload) => {
          running++;
          peak = Math.max(peak, running);
          const text = `${deviceId}:${String(payload)}`;
          if (text === 'veh-1:online') await slow.promise;
          order.push(text);
          running--;
          return true;
        },
      },
    });
    await box.accept('veh-1', 'status', Buffer.from('online'));
    await box.accept('veh-1', 'status', Buffer.from('offline')); // the last will, right behind
    await box.accept('veh-2', 'status', Buffer.from('online'));
    await tick();
    expect(order).toEqual(['veh-2:online']);
    slow.resolve();
    await box.drain();
    expect(order).toEqual(['veh-2:online', 'veh-1:online', 'veh-1:offline']);
    expect(peak).toBeLessThanOrEqual(3);
  });

  it('ignores acks and commands (hub → device channels)', async () => {
    let called = false;
    const box = inbox({ ingest: { ingest: async () => ((called = true), { ack: null, stored: 0, duplicates: 0, rejected: 0 }) } });
    await box.accept('veh-1', 'acks', Buffer.from('{}'));
    await box.accept('veh-1', 'commands', Buffer.from('{}'));
    await box.drain();
    expect(called).toBe(false);
  });
});
