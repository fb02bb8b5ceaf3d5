import { afterEach, describe, expect, it } from 'vitest';
import { connectAsync, type MqttClient } from 'mqtt';
import { Registry } from 'prom-client';
import { StatusSchema, deviceTopic, newBatchId, type Status } from '@roadwatch/shared';
import { sampleEvents } from '../outbox/testing/sample-events.js';
import { MqttUplink } from './mqtt-uplink.js';
import { FakeHub } from './testing/fake-hub.js';
import { memoryLogger, sleep, tempOutbox, testConfig, waitFor } from './testing/harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(opts: { uplink?: Record<string, unknown>; mode?: 'ack' | 'hold' | 'never'; deviceId?: string; registry?: Registry; clock?: () => number } = {}) {
  const hub = await FakeHub.start({ mode: opts.mode ?? 'ack' });
  cleanups.push(() => hub.close());
  const { logger, lines } = memoryLogger();
  const box = tempOutbox(logger);
  cleanups.push(box.cleanup);
  const config = testConfig({ hubUrl: hub.url, deviceId: opts.deviceId, dataDir: box.dir, uplink: opts.uplink });
  const uplink = new MqttUplink({ config, outbox: box.outbox, logger, registry: opts.registry, agentVersion: '0.1.0-test', clock: opts.clock });
  cleanups.push(() => uplink.stop());
  return { hub, outbox: box.outbox, uplink, lines, config };
}

/** An online uplink with uplink.lingerMs whose first event went out at once: the linger now runs. */
async function lingeringAfterFirstBatch(uplinkConfig: Record<string, unknown>) {
  const ctx = await setup({ uplink: uplinkConfig });
  await ctx.uplink.start();
  await waitFor('online', () => ctx.uplink.uplinkState === 'online');
  ctx.outbox.append(sampleEvents(1));
  ctx.uplink.notify();
  await waitFor('first batch', () => ctx.hub.batches.length === 1);
  return ctx;
}

/** Events found one at a time after the first (seqs 2, 3, …), each notified, 20 ms apart. */
async function findOneAtATime(ctx: Pick<Awaited<ReturnType<typeof setup>>, 'outbox' | 'uplink'>, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    ctx.outbox.append(sampleEvents(1, 1 + i));
    ctx.uplink.notify();
    await sleep(20);
  }
}

async function observe(url: string, topic: string): Promise<{ client: MqttClient; messages: { payload: string; retain: boolean }[] }> {
  const client = await connectAsync(url, { clientId: `observer-${newBatchId()}`, clean: true, protocolVersion: 4, reconnectPeriod: 0 });
  cleanups.push(() => client.endAsync(true));
  const messages: { payload: string; retain: boolean }[] = [];
  client.on('message', (_t, payload, packet) => messages.push({ payload: payload.toString(), retain: packet.retain }));
  await client.subscribeAsync(topic, { qos: 1 });
  return { client, messages };
}

describe('MqttUplink against a real MQTT broker', () => {
  it('sends every row and settles all of them once the hub acks', async () => {
    const registry = new Registry();
    const { hub, outbox, uplink, lines } = await setup({ uplink: { batchMaxEvents: 100 }, registry });
    outbox.append(sampleEvents(2_000));
    await uplink.start();
    await waitFor('outbox drained', () => outbox.stats().depth === 0);
    // Rows appended while online are picked up after notify().
    outbox.append(sampleEvents(150, 2_000));
    uplink.notify();
    await waitFor('second drain', () => outbox.stats().depth === 0 && hub.storedCount === 2_150);

    expect(hub.invalid).toEqual([]);
    expect(hub.duplicates).toBe(0);
    expect(hub.batches.every((b) => b.seqs.length <= 100)).toBe(true);
    const snap = uplink.snapshot();
    expect(snap).toMatchObject({ state: 'online', eventsSettled: 2_150, inFlight: 0, batchesResent: 0, ackTimeouts: 0 });
    expect(snap.batchesAcked).toBe(snap.batchesSent);
    expect(outbox.stats().lastAckAt).not.toBeNull();
    const metrics = await registry.metrics();
    expect(metrics).toContain('roadwatch_uplink_events_settled_total 2150');
    expect(metrics).toContain('roadwatch_uplink_state{state="online"} 1');
    // dozens of batches, yet only lifecycle lines at info and above
    expect(lines.filter((l) => l.level >= 30 && l.module === 'uplink').map((l) => l.msg)).toEqual(['uplink starting', 'connected to hub']);
  });

  it('keeps several batches in flight', async () => {
    const { hub, outbox, uplink } = await setup({ uplink: { batchMaxEvents: 50, maxInFlight: 4 }, mode: 'hold' });
    hub.releaseAt = 3;
    outbox.append(sampleEvents(1_000));
    await uplink.start();
    await waitFor('every row sent', () => hub.batches.at(-1)?.seqs.at(-1) === 1_000);
    hub.mode = 'ack';
    hub.releaseAcks();
    await waitFor('outbox drained', () => outbox.stats().depth === 0);
    expect(hub.maxOutstanding).toBeGreaterThanOrEqual(3);
    expect(hub.maxOutstanding).toBeLessThanOrEqual(4);
    expect(hub.storedCount).toBe(1_000);
  });

  it('measures the ack timeout on the monotonic clock: a wall clock stepped back an hour does not hold the resend', async () => {
    let offset = 0;
    const { hub, outbox, uplink } = await setup({ uplink: { batchMaxEvents: 40, maxInFlight: 2, ackTimeoutMs: 1_000 }, mode: 'never', clock: () => Date.now() + offset });
    outbox.append(sampleEvents(100));
    await uplink.start();
    await waitFor('batches in flight', () => uplink.snapshot().inFlight === 2);
    offset = -3_600_000; // NTP steps the clock back while the acks are lost
    await waitFor('an ack timeout despite the step back', () => uplink.snapshot().ackTimeouts >= 1, 5_000);
    hub.mode = 'ack';
    await waitFor('outbox drained once the hub acks', () => outbox.stats().depth === 0);
  });

  it('removes nothing without an ack, and resends after the ack timeout', async () => {
    const { hub, outbox, uplink, lines } = await setup({ uplink: { batchMaxEvents: 40, maxInFlight: 2, ackTimeoutMs: 1_000 }, mode: 'never' });
    outbox.append(sampleEvents(100));
    await uplink.start();
    await waitFor('an ack timeout', () => uplink.snapshot().ackTimeouts >= 1, 5_000);
    await waitFor('the resent batches', () => hub.batches.length >= 4);
    expect(outbox.stats().depth).toBe(100);
    const first = hub.batches[0]!;
    const again = hub.batches.slice(1).find((b) => b.seqs[0] === first.seqs[0]);
    expect(again).toBeDefined();
    expect(again!.batchId).not.toBe(first.batchId);
    expect(again!.eventIds).toEqual(first.eventIds);
    expect(uplink.snapshot().batchesResent).toBeGreaterThanOrEqual(2);
    expect(lines.some((l) => l.level === 40 && l.msg.includes('no ack from the hub'))).toBe(true);

    hub.mode = 'ack';
    await waitFor('outbox drained once the hub acks', () => outbox.stats().depth === 0);
    expect(hub.storedCount).toBe(100);
  });

  it('a batch lost while later ones are acked is sent again, and stored once', async () => {
    const { hub, outbox, uplink } = await setup({ uplink: { batchMaxEvents: 20, maxInFlight: 3, ackTimeoutMs: 1_000, ackMaxWaitMs: 1_000 } });
    hub.loseNext = 1;
    outbox.append(sampleEvents(200));
    await uplink.start();
    await waitFor('outbox drained', () => outbox.stats().depth === 0, 10_000);
    expect(uplink.snapshot().ackTimeouts).toBeGreaterThanOrEqual(1);
    expect(hub.storedCount).toBe(200);
    expect([...hub.stored.values()].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('keeps every batch within batchMaxBytes', async () => {
    const { hub, outbox, uplink } = await setup({ uplink: { batchMaxEvents: 500, batchMaxBytes: 4_096 } });
    outbox.append(sampleEvents(300).map((e, i) => ({ ...e, model: `m${i}-${'x'.repeat(120)}` })));
    await uplink.start();
    await waitFor('outbox drained', () => outbox.stats().depth === 0);
    expect(hub.storedCount).toBe(300);
    expect(Math.max(...hub.batches.map((b) => b.bytes))).toBeLessThanOrEqual(4_096);
    expect(hub.batches.every((b) => b.seqs.length > 1)).toBe(true);
    // the cap is used, not just respected: batches are close to full
    expect(hub.batches[0]!.bytes).toBeGreaterThan(4_096 - 600);
  });

  it('ignores invalid and unknown acks without crashing', async () => {
    const { hub, outbox, uplink, lines } = await setup({ mode: 'never', deviceId: 'veh-acks' });
    outbox.append(sampleEvents(10));
    await uplink.start();
    await waitFor('a batch sent', () => hub.batches.length >= 1);
    await hub.publishRawAck('veh-acks', 'not json {');
    await hub.publishRawAck('veh-acks', JSON.stringify({ v: 1, batchId: 'nope' }));
    await hub.publishRawAck('veh-acks', JSON.stringify({ v: 1, batchId: newBatchId(), stored: [], duplicates: 0, rejected: [] }));
    await waitFor('acks counted', () => uplink.snapshot().acksInvalid === 2 && uplink.snapshot().acksUnknown === 1);
    expect(outbox.stats().depth).toBe(10);
    expect(lines.filter((l) => l.msg === 'ignoring an invalid ack from the hub')).toHaveLength(2);

    const batch = hub.batches[0]!;
    await hub.publishRawAck('veh-acks', JSON.stringify({ v: 1, batchId: batch.batchId, stored: batch.eventIds, duplicates: 0, rejected: [] }));
    await waitFor('the real ack settles', () => outbox.stats().depth === 0);
    expect(uplink.snapshot().state).toBe('online');
  });

  it('lingerMs: events found one at a time go out together in the next batch; full batches and sync now do not wait', async () => {
    // The first event after a quiet spell goes at once…
    const { hub, outbox, uplink } = await lingeringAfterFirstBatch({ batchMaxEvents: 10, lingerMs: 2_000 });
    // …the next ones, found while the linger runs, wait and travel together.
    await findOneAtATime({ outbox, uplink }, 4);
    expect(hub.batches).toHaveLength(1);
    await waitFor('lingered batch', () => hub.batches.length === 2);
    expect(hub.batches.map((b) => b.seqs)).toEqual([[1], [2, 3, 4, 5]]);
    // A full batch does not wait.
    outbox.append(sampleEvents(10, 5));
    uplink.notify();
    await waitFor('full batch', () => hub.batches.length === 3);
    expect(hub.batches[2]!.seqs).toHaveLength(10);
    // Nor does `roadwatch sync --now`.
    outbox.append(sampleEvents(2, 15));
    expect(uplink.syncNow()).toMatchObject({ action: 'sending', batchesSent: 1 });
    await waitFor('outbox drained', () => outbox.stats().depth === 0);
    expect(hub.batches.map((b) => b.seqs.length)).toEqual([1, 4, 10, 2]);
    expect(hub.storedCount).toBe(17);
  });

  it('lingerMs: a batch full by bytes goes at once; while lingering the outbox is counted, not read', async () => {
    const { hub, outbox, uplink } = await lingeringAfterFirstBatch({ batchMaxEvents: 100, batchMaxBytes: 4096, lingerMs: 20_000 });
    let reads = 0;
    const readAfter = outbox.readAfter.bind(outbox);
    outbox.readAfter = (...args) => (reads++, readAfter(...args));
    // Events found one at a time while the linger runs: counted on each notify, never read.
    const readsBefore = reads;
    await findOneAtATime({ outbox, uplink }, 3);
    expect(reads).toBe(readsBefore);
    expect(hub.batches).toHaveLength(1);
    // 30 events are far more than 4 kB: full batches by bytes, sent long before the 20 s linger ends.
    outbox.append(sampleEvents(30, 4));
    uplink.notify();
    await waitFor('byte-full batches', () => hub.batches.length >= 3, 10_000);
    const sent = hub.batches.slice(1).flatMap((b) => b.seqs);
    expect(sent.slice(0, 10)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(hub.batches.slice(1).every((b) => b.seqs.length < 30)).toBe(true);
    await uplink.stop();
  });

  it('lingerMs: stop sends what the linger holds back and awaits its ack', async () => {
    const { hub, outbox, uplink } = await lingeringAfterFirstBatch({ batchMaxEvents: 100, lingerMs: 60_000 });
    await findOneAtATime({ outbox, uplink }, 3);
    await sleep(50);
    expect(hub.batches).toHaveLength(1); // lingering
    await uplink.stop();
    expect(hub.batches.map((b) => b.seqs)).toEqual([[1], [2, 3, 4]]);
    expect(outbox.stats().depth).toBe(0); // acked before the link closed
  });

  it('publishes a valid retained status on connect, and offline on stop', async () => {
    const { hub, outbox, uplink, config } = await setup({ mode: 'never' });
    outbox.append(sampleEvents(25));
    const { messages } = await observe(hub.url, deviceTopic(config.deviceId, 'status'));
    await uplink.start();
    await waitFor('online status', () => messages.length >= 1);
    const online: Status = StatusSchema.parse(JSON.parse(messages[0]!.payload));
    expect(online).toMatchObject({ v: 1, state: 'online', queueDepth: 25, agentVersion: '0.1.0-test', lastAckAt: null, evictedTotal: 0 });
    expect(online.queueBytes).toBeGreaterThan(0);
    expect(online.oldestUnsyncedAgeS).toBeGreaterThanOrEqual(0);

    await uplink.stop();
    expect(uplink.uplinkState).toBe('stopped');
    await waitFor('offline status', () => messages.some((m) => JSON.parse(m.payload).state === 'offline'));
    const late = await observe(hub.url, deviceTopic(config.deviceId, 'status'));
    await waitFor('retained status', () => late.messages.length >= 1);
    expect(late.messages[0]).toEqual({ payload: '{"v":1,"state":"offline"}', retain: true });
    await sleep(50);
  });
});
