import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentConfigSchema } from '../agent/src/config/schema.js';
import { createAgent, type Agent } from '../agent/src/main.js';
import { outboxDepth } from './support/agent.js';
import { checkInvariants } from './support/invariants.js';
import { PgCluster, pgClusterUnavailable } from './support/pg-cluster.js';
import { waitUntil, type LogLine } from './support/processes.js';
import { FAULT_AGENT_CONFIG, FaultCluster, findMosquitto, type ReplicaProcess } from './support/scale-out.js';
import { startTcpProxy, type TcpProxy } from '../hub/src/db/testing/tcp-proxy.js';

/**
 * Fault suite (docs/SCALE-OUT.md#fault-suite): two hub replicas in scale-out mode on a private
 * Mosquitto and a private Postgres cluster, real `roadwatch run` agents under steady load, one
 * fault per scenario, and the same invariants after each (test/support/invariants.ts).
 */
const MOSQUITTO = findMosquitto();
const PG_UNAVAILABLE = pgClusterUnavailable();
const SKIP = !MOSQUITTO ? 'the mosquitto binary is not installed (apt-get install mosquitto)' : PG_UNAVAILABLE;
if (SKIP) {
  if (process.env.CI === 'true') throw new Error(`fault suite cannot run: ${SKIP}`);
  console.warn(`skipping the fault suite: ${SKIP}`);
}

/** Events per feeder tick and tick length: 3 vehicles × 10 events / 100 ms ≈ 300 events/s in all. */
const PER_TICK = 10;
const TICK_MS = 100;

describe.skipIf(SKIP)('fault suite: two hub replicas, Mosquitto, Postgres, agents under load', () => {
  let pg: PgCluster;
  let cluster: FaultCluster | null = null;
  const proxies: TcpProxy[] = [];

  beforeAll(async () => {
    pg = await PgCluster.create();
    await pg.start();
  }, 120_000);

  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((p) => p.close()));
    await cluster?.dispose();
    cluster = null;
  }, 90_000);

  afterAll(async () => {
    await pg?.dispose();
  }, 60_000);

  /** A cluster with both replicas up and every vehicle's agent running and fed. */
  const loaded = async (name: string, devices: string[], hubUrl?: (id: string) => string): Promise<FaultCluster> => {
    cluster = await FaultCluster.start({ pg, name, devices });
    await cluster.startReplicas();
    for (const id of devices) {
      cluster.openFeeder(id).start(PER_TICK, TICK_MS);
      cluster.startAgent(id, { hubUrl: hubUrl?.(id) });
    }
    await cluster.progress(200, 'ingest under load before the fault');
    return cluster;
  };

  const assertInvariants = async (c: FaultCluster, evicted: string[] = []) => {
    const evictedSet = new Set(evicted);
    const expected = c.producedIds().filter((id) => !evictedSet.has(id));
    const report = await checkInvariants({ databaseUrl: c.databaseUrl, expected, evicted });
    expect(report.violations, c.tails()).toEqual([]);
    expect(report.detections).toBe(expected.length);
    console.info(`${c.options.name}: ${report.detections} events stored once (${evicted.length} evicted), rollup rows ${JSON.stringify(report.rollupRows)}, alarms ${JSON.stringify(report.alarms)}`);
    return report;
  };

  const ready = async (r: ReplicaProcess): Promise<number> => {
    try {
      return (await fetch(`http://127.0.0.1:${r.httpPort}/health/ready`, { signal: AbortSignal.timeout(3_000) })).status;
    } catch {
      return 0;
    }
  };

  const agentLogged = (c: FaultCluster, match: (l: LogLine) => boolean) => [...c.vehicles.values()].some((v) => v.agent?.lines.some(match));

  it('a) kill -9 of one replica under load: the other carries on, every event lands once', async () => {
    const c = await loaded('kill9', ['veh-a1', 'veh-a2', 'veh-a3']);
    const [victim, survivor] = c.replicas as [ReplicaProcess, ReplicaProcess];
    await victim.kill9();
    expect(victim.running).toBe(false);
    // The survivor alone keeps ingesting (the victim's orphaned session takes a share for
    // mqtt.sessionExpiryS; the agents resend those after their ack timeout).
    await c.progress(1_000, 'the surviving replica ingesting alone');
    await c.drain();
    expect(survivor.running).toBe(true);
    await assertInvariants(c);
  }, 180_000);

  it('b) Postgres crashed (immediate) and stopped (fast) under load: hubs survive, nothing lost or doubled', async () => {
    const c = await loaded('pgrestart', ['veh-b1', 'veh-b2', 'veh-b3']);
    for (const mode of ['immediate', 'fast'] as const) {
      await pg.stop(mode);
      // Both replicas notice (readiness pings the database) and keep running.
      await waitUntil(async () => (await Promise.all(c.replicas.map(ready))).every((s) => s === 503), `both replicas not ready with Postgres down (${mode})`, 30_000);
      await pg.start();
      await waitUntil(async () => (await Promise.all(c.replicas.map(ready))).every((s) => s === 200), `both replicas ready again after Postgres (${mode})`, 60_000);
      await c.progress(500, `ingest after the Postgres ${mode} restart`);
    }
    for (const r of c.replicas) expect(r.running, r.tail()).toBe(true);
    await c.drain();
    await assertInvariants(c);
  }, 180_000);

  it('c) Mosquitto restarted under load: replicas and agents reconnect, sessions survive, nothing lost or doubled', async () => {
    const c = await loaded('broker', ['veh-c1', 'veh-c2', 'veh-c3']);
    const reconnects = () => [...c.vehicles.values()].filter((v) => v.agent!.lines.some((l) => l.msg === 'connected to hub again')).length;
    await c.broker.stop();
    await waitUntil(async () => (await Promise.all(c.replicas.map(ready))).every((s) => s === 503), 'both replicas not ready without the broker', 30_000);
    await c.broker.start();
    await waitUntil(async () => (await Promise.all(c.replicas.map(ready))).every((s) => s === 200), 'both replicas subscribed again', 60_000);
    await waitUntil(() => reconnects() === c.vehicles.size, 'every agent reconnected', 60_000);
    await c.progress(1_000, 'ingest after the broker restart');
    for (const r of c.replicas) expect(r.running, r.tail()).toBe(true);
    await c.drain();
    await assertInvariants(c);
  }, 180_000);

  it('d) agent↔broker link stalled, cut and reset by a TCP proxy under load: nothing lost or doubled', async () => {
    cluster = await FaultCluster.start({ pg, name: 'link', devices: ['veh-d1', 'veh-d2', 'veh-d3'] });
    const c = cluster;
    const link = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(c.broker.deviceUrl).port) });
    proxies.push(link);
    await c.startReplicas();
    for (const id of c.vehicles.keys()) {
      c.openFeeder(id).start(PER_TICK, TICK_MS);
      c.startAgent(id, { hubUrl: link.url });
    }
    await c.progress(200, 'ingest through the proxy before the fault');
    const ackTimeouts = () => [...c.vehicles.values()].reduce((n, v) => n + v.agent!.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('no ack from the hub')).length, 0);

    // Stall: nothing moves, nothing is refused. The agents time out on their acks (and resend into
    // the stalled socket); when the link comes back the late acks and the resends arrive.
    const before = ackTimeouts();
    link.stall();
    await waitUntil(() => ackTimeouts() > before, 'an agent to time out on an ack while the link is stalled', 30_000);
    link.resume();
    await c.progress(500, 'ingest after the stall');

    // Cut (FIN) and reset (RST): the agents reconnect through the proxy and resend what was unacked.
    for (const fault of ['cut', 'reset'] as const) {
      const accepted = link.accepted;
      link[fault]();
      await waitUntil(() => link.accepted >= accepted + c.vehicles.size && link.connections >= c.vehicles.size, `every agent reconnected after the ${fault}`, 30_000);
      await c.progress(500, `ingest after the ${fault}`);
    }
    await c.drain();
    await assertInvariants(c);
  }, 180_000);

  it('e) outbox byte cap reached while offline: the oldest seqs are evicted and counted, everything else arrives', async () => {
    const MiB = 1024 * 1024;
    cluster = await FaultCluster.start({ pg, name: 'diskcap', devices: ['veh-e1', 'veh-e2'] });
    const c = cluster;
    const offlineLink = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(c.broker.deviceUrl).port) });
    proxies.push(offlineLink);
    await offlineLink.down(); // veh-e1 has no network
    await c.startReplicas();
    // veh-e2 drives online under load meanwhile.
    c.openFeeder('veh-e2').start(PER_TICK, TICK_MS);
    c.startAgent('veh-e2');
    // veh-e1: the agent runs with a 1 MiB cap; its camera pipeline (the feeder, with the same cap) fills it.
    const capped = c.openFeeder('veh-e1', { maxBytes: MiB });
    const agent = c.startAgent('veh-e1', { hubUrl: offlineLink.url, env: { ROADWATCH_OUTBOX_MAX_BYTES: String(MiB) } });
    await agent.waitForLog((l) => l.msg === 'agent started', 30_000);
    while (capped.stats().evictedTotal < 1_500) capped.append(100);
    const stats = capped.stats();
    expect(stats.bytes).toBeLessThanOrEqual(MiB);
    const remaining = new Set(capped.remainingSeqs());
    const evicted = capped.produced.filter((e) => !remaining.has(e.seq));
    // Oldest seq first: what went is exactly seqs 1…k, what stays is k+1…newest, and every eviction is counted.
    expect(evicted.map((e) => e.seq)).toEqual(Array.from({ length: evicted.length }, (_, i) => i + 1));
    expect([...remaining]).toEqual(Array.from({ length: capped.produced.length - evicted.length }, (_, i) => evicted.length + i + 1));
    expect(stats.evictedTotal).toBe(evicted.length);

    await offlineLink.up();
    await c.progress(remaining.size, 'the capped outbox syncing');
    await c.drain();
    // The vehicle reports what it lost: evictedTotal in its status.
    await waitUntil(
      async () => (await c.query<{ n: string }>(`select payload->>'evictedTotal' as n from device_status where device_id = 'veh-e1'`))[0]?.n === String(evicted.length),
      'veh-e1 status to report its evictions',
      30_000,
    );
    await assertInvariants(c, evicted.map((e) => e.eventId));
  }, 180_000);

  it('f) agent clock jumping back and forth under load (a lost ack while the clock is set back included)', async () => {
    cluster = await FaultCluster.start({ pg, name: 'clock', devices: ['veh-f1', 'veh-f2'] });
    const c = cluster;
    await c.startReplicas();
    // veh-f2: an ordinary agent process under load. veh-f1: the agent's composition root in this
    // process (createAgent: the real SqliteOutbox and MqttUplink over MQTT) with a wall clock the test moves.
    c.openFeeder('veh-f2').start(PER_TICK, TICK_MS);
    c.startAgent('veh-f2');
    let offset = 0;
    const wall = () => Date.now() + offset;
    const v = c.vehicle('veh-f1');
    const config = AgentConfigSchema.parse({
      ...FAULT_AGENT_CONFIG,
      uplink: { ...FAULT_AGENT_CONFIG.uplink, ackTimeoutMs: 6000 },
      deviceId: v.deviceId,
      deviceSecret: v.secret,
      hubUrl: c.broker.deviceUrl,
      dataDir: v.dataDir,
    });
    const feeder = c.openFeeder('veh-f1', { clock: wall, stampWithClock: true });
    const agent: Agent = createAgent(config, { logger: pino({ level: 'silent' }), clock: wall });
    try {
      await agent.start();
      feeder.start(PER_TICK, TICK_MS);
      await waitUntil(() => agent.uplink.snapshot().batchesAcked >= 5, 'the in-process agent syncing', 30_000);

      // Forward and back while syncing: ack timeouts may fire at once (a resend, stored once), rows
      // are stamped across hours and days.
      for (const jump of [6 * 3_600_000, -30 * 3_600_000, 26 * 3_600_000, -86_400_000]) {
        offset += jump;
        const acked = agent.uplink.snapshot().batchesAcked;
        await waitUntil(() => agent.uplink.snapshot().batchesAcked >= acked + 5, `acks after a clock jump of ${jump / 3_600_000} h`, 30_000);
      }

      // The clock steps back while acks are lost: replica 0 freezes (its batches get no ack), the
      // clock goes back an hour, replica 0 dies. The agent must still time out and resend.
      const [frozen] = c.replicas as [ReplicaProcess, ReplicaProcess];
      frozen.proc.child.kill('SIGSTOP');
      let last = { acked: -1, at: 0 };
      await waitUntil(
        () => {
          const s = agent.uplink.snapshot();
          if (s.batchesAcked !== last.acked) last = { acked: s.batchesAcked, at: Date.now() };
          return s.inFlight >= config.uplink.maxInFlight && Date.now() - last.at >= 500;
        },
        'every in-flight batch of the in-process agent held by the frozen replica',
        30_000,
        50,
      );
      offset -= 3_600_000;
      await frozen.kill9();
      const acked = agent.uplink.snapshot().batchesAcked;
      await waitUntil(() => agent.uplink.snapshot().batchesAcked >= acked + 5, 'acks again after the lost acks with the clock set back', 45_000);
      offset += 7 * 86_400_000; // and a week forward: still inside the 30-day age cap
      await c.progress(300, 'ingest after the last jump');
      await feeder.stop();
      await c.drain();
      expect(feeder.stats().evictedTotal).toBe(0);
    } finally {
      await feeder.stop();
      await agent.stop();
    }
    expect(outboxDepth(v.dataDir)).toBe(0);
    await assertInvariants(c);
  }, 180_000);

  it('g) SIGTERM of a replica under load: admitted batches are committed and acked, it exits 0, nothing lost', async () => {
    const c = await loaded('sigterm', ['veh-g1', 'veh-g2', 'veh-g3']);
    const [leaving, staying] = c.replicas as [ReplicaProcess, ReplicaProcess];
    const inFlight = async () => {
      const text = await (await fetch(`http://127.0.0.1:${leaving.httpPort}/metrics`)).text();
      return Number(/^roadwatch_hub_mqtt_ingest_in_flight (\d+)/m.exec(text)?.[1] ?? 0);
    };
    // Stop it while it is ingesting.
    await waitUntil(async () => (await inFlight()) > 0, 'the leaving replica to have batches in flight', 30_000, 20);
    const code = await leaving.stop();
    expect(code, leaving.tail()).toBe(0);
    expect(leaving.proc.lines.some((l) => l.msg === 'hub stopped')).toBe(true);
    const problems = leaving.proc.lines.filter((l) => /could not publish ack|batch ingest failed/.test(String(l.msg)));
    expect(problems).toEqual([]);
    await c.progress(500, 'the staying replica ingesting alone');
    // A rolling update: it comes back under its client id and finds its session.
    await leaving.start();
    await c.progress(500, 'ingest with both replicas again');
    expect(staying.running).toBe(true);
    await c.drain();
    await assertInvariants(c);
  }, 180_000);
});
