import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { newBatchId, newEventId, deviceTopic } from '@roadwatch/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboxDepth, replay, startAgent } from './support/agent.js';
import { makeEvents, writeEventsJsonl } from './support/events.js';
import { startHubFixture } from './support/fixture.js';
import { fetchAllDetections, type HubProcess } from './support/hub.js';
import { sleep, waitUntil } from './support/processes.js';

function connect(hub: HubProcess, deviceId: string, password: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(hub.mqttUrl, { clientId: deviceId, username: deviceId, password, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 });
    client.once('connect', () => resolve(client));
    client.once('error', (error) => {
      client.end(true);
      reject(error);
    });
  });
}

function batch(deviceId: string, events: object[]): { batchId: string; payload: string } {
  const batchId = newBatchId();
  return { batchId, payload: JSON.stringify({ v: 1, deviceId, batchId, sentAt: new Date().toISOString(), events }) };
}

function wireEvents(count: number, seed: number, firstSeq: number): Array<Record<string, unknown>> {
  return makeEvents(count, seed).map((e, i) => ({ ...e, eventId: newEventId(), seq: firstSeq + i }));
}

/** Sum of a Prometheus counter's samples, optionally only those whose labels contain `labels`. */
async function metric(hub: HubProcess, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${hub.httpUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (match && match[1] === name && (match[2] ?? '').includes(labels)) sum += Number(match[3]);
  }
  return sum;
}

describe('bad input reaching a running hub', () => {
  let fixture: Awaited<ReturnType<typeof startHubFixture>>;
  let hub: HubProcess;
  let good: { deviceId: string; secret: string };
  let rogue: { deviceId: string; secret: string };
  let client: MqttClient;
  const acks: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    fixture = await startHubFixture();
    hub = fixture.hub;
    good = await hub.addDevice('veh-good');
    rogue = await hub.addDevice('veh-rogue');
    client = await connect(hub, rogue.deviceId, rogue.secret);
    await client.subscribeAsync(deviceTopic(rogue.deviceId, 'acks'), { qos: 1 });
    client.on('message', (_topic, payload) => acks.push(JSON.parse(payload.toString()) as Record<string, unknown>));
  });
  afterAll(async () => {
    client?.end(true);
    await fixture?.teardown();
  });

  const ackFor = (batchId: string) => waitUntil(() => acks.find((a) => a.batchId === batchId), `ack for ${batchId}`, 10_000);

  it('quarantines lat 95 and stores its neighbours, once even when the batch is sent twice', async () => {
    const events = wireEvents(3, 11, 1);
    events[1]!.lat = 95;
    const { batchId, payload } = batch(rogue.deviceId, events);
    await client.publishAsync(deviceTopic(rogue.deviceId, 'events'), payload, { qos: 1 });
    const ack = await ackFor(batchId);
    expect(ack.stored).toHaveLength(2);
    expect(ack.rejected).toEqual([{ seq: 2, eventId: events[1]!.eventId, reason: expect.stringContaining('lat') }]);

    await client.publishAsync(deviceTopic(rogue.deviceId, 'events'), payload, { qos: 1 });
    await waitUntil(() => acks.filter((a) => a.batchId === batchId).length === 2, 'the second ack');
    const again = acks.filter((a) => a.batchId === batchId)[1]!;
    expect(again.stored).toEqual([]);
    expect(again.duplicates).toBe(2);
    expect(await metric(hub, 'roadwatch_hub_events_duplicates_total')).toBeGreaterThanOrEqual(2);
  });

  it('acks a deviceId that disagrees with the topic with an error and stores nothing of it', async () => {
    const { batchId, payload } = batch(good.deviceId, wireEvents(2, 12, 10));
    await client.publishAsync(deviceTopic(rogue.deviceId, 'events'), payload, { qos: 1 });
    const ack = await ackFor(batchId);
    expect(String(ack.error)).toContain('does not match topic');
    expect(ack.stored).toEqual([]);
  });

  it('counts malformed JSON and an oversized payload without acking or crashing', async () => {
    const jsonBefore = await metric(hub, 'roadwatch_hub_events_rejected_total', 'reason="json"');
    await client.publishAsync(deviceTopic(rogue.deviceId, 'events'), '{"v":1,"events":[', { qos: 1 });
    await waitUntil(async () => (await metric(hub, 'roadwatch_hub_events_rejected_total', 'reason="json"')) > jsonBefore, 'the JSON rejection to be counted', 10_000);

    const droppedBefore = await metric(hub, 'roadwatch_hub_mqtt_dropped_total');
    const huge = batch(rogue.deviceId, wireEvents(1, 13, 20)).payload.replace('"events":[', `"pad":"${'x'.repeat(1_100_000)}","events":[`);
    await client.publishAsync(deviceTopic(rogue.deviceId, 'events'), huge, { qos: 1 }).catch(() => {});
    await waitUntil(async () => (await metric(hub, 'roadwatch_hub_mqtt_dropped_total')) > droppedBefore, 'the oversized payload to be counted', 10_000);
    expect(hub.proc.running).toBe(true);
  });

  it('refuses a wrong secret, an unknown device and a publish to another device’s topic', async () => {
    const authBefore = await metric(hub, 'roadwatch_hub_auth_failures_total');
    await expect(connect(hub, good.deviceId, 'not-the-secret')).rejects.toThrow();
    await expect(connect(hub, 'veh-unknown', 'whatever')).rejects.toThrow();
    expect(await metric(hub, 'roadwatch_hub_auth_failures_total')).toBeGreaterThanOrEqual(authBefore + 2);

    const intruder = await connect(hub, rogue.deviceId, rogue.secret);
    const aclBefore = await metric(hub, 'roadwatch_hub_acl_denied_total');
    const { payload } = batch(good.deviceId, wireEvents(1, 14, 30));
    intruder.publish(deviceTopic(good.deviceId, 'events'), payload, { qos: 1 });
    await waitUntil(async () => (await metric(hub, 'roadwatch_hub_acl_denied_total')) > aclBefore, 'the ACL denial to be counted', 10_000);
    intruder.end(true);
    await sleep(200);
    expect((await fetchAllDetections(hub)).some((d) => d.deviceId === good.deviceId)).toBe(false);
  });

  it('keeps serving other devices: a real agent still syncs everything', async () => {
    const agentDir = join(fixture.dir, 'agent-good');
    const file = join(fixture.dir, 'good.jsonl');
    writeEventsJsonl(file, 300, 15);
    expect((await replay(agentDir, file)).code).toBe(0);
    const agent = startAgent({ dataDir: agentDir, deviceId: good.deviceId, secret: good.secret, hubUrl: hub.mqttUrl });
    try {
      await waitUntil(() => outboxDepth(agentDir) === 0, 'the good agent to sync', 60_000);
    } finally {
      await agent.kill('SIGTERM');
    }
    const stored = await fetchAllDetections(hub);
    expect(stored.filter((d) => d.deviceId === good.deviceId)).toHaveLength(300);
    expect(stored.filter((d) => d.deviceId === rogue.deviceId)).toHaveLength(2);
    expect((await hub.get('/health/ready')).status).toBe(200);
  });
});
