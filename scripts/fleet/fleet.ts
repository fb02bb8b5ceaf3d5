// Runs N simulated vehicles in this process (one mqtt.js client each) in one of three modes:
//   steady  every vehicle reports `rate` events a second, a batch every `batchIntervalMs`;
//   herd    shift change: all N connect at once, each with `backlog` buffered events, and drain them
//           as fast as the acks allow (`maxInFlight` batches of up to `batchEvents` in flight);
//   flap    steady, but links drop at random (now and then, and right after the broker took a batch,
//           so its ack is lost) and reconnect; unacked batches are sent again, duplicates must be stored once.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { RoadEventSource, seededRandom } from './events.js';
import { inParallel } from './parallel.js';
import type { Credentials } from './provision.js';
import { FleetStats, summarize, type LatencySummary } from './stats.js';
import { SimVehicle } from './vehicle.js';

export type FleetMode = 'steady' | 'herd' | 'flap';
export const FLEET_MODES: readonly FleetMode[] = ['steady', 'herd', 'flap'];

export interface FleetOptions {
  mode: FleetMode;
  /** The vehicles' MQTT URL: the hub's embedded broker, or the external broker's vehicle listener. */
  url: string;
  credentials: readonly Credentials[];
  /** Events per batch at most (default 500, the agent's). */
  batchEvents?: number;
  /** Batches awaiting their ack per vehicle (default 4, the agent's). */
  maxInFlight?: number;
  /** Default 30,000 ms (the agent's). */
  ackTimeoutMs?: number;
  /** Status every … ms besides the one on connect (default 30,000, the agent's; 0 = on connect only). */
  statusIntervalMs?: number;
  /** steady/flap: events a second per vehicle (default 4). */
  rate?: number;
  /** steady/flap: one batch every … ms per vehicle (default 5,000). */
  batchIntervalMs?: number;
  /** steady/flap: seconds of publishing once all are connected (default 30). */
  durationS?: number;
  /** steady/flap: seconds after the last connect before the measured window starts (default 5). */
  warmupS?: number;
  /** herd: events buffered per vehicle (default 10,000). */
  backlog?: number;
  /** flap: chance a vehicle cuts its link right after the broker took a batch (default 0.05). */
  dropAfterPublish?: number;
  /** flap: mean seconds between random link drops per vehicle (default 10). */
  flapMeanS?: number;
  /** Delay before reconnecting after a drop, ms (default [200, 2000]). */
  reconnectDelayMs?: readonly [number, number];
  seed?: number;
  /** Keep every event id generated (exact set comparison in verifyExactlyOnce); small runs only. */
  keepIds?: boolean;
  /** Give up waiting for the last acks after … s (default 600). */
  drainTimeoutS?: number;
  /** Rows in the hub's detections table (Postgres count), for stored/s. */
  countStored?: () => Promise<number>;
  /** Starts a CPU meter of the measured processes (a fresh cpuMeter), for the CPU of the steady/flap window. */
  meterCpu?: () => { end(): Array<{ name: string; cpuSeconds: number }> };
  /**
   * Connect every vehicle once (and leave cleanly) before the run, so the measured connect is a
   * reconnect: the embedded broker's first login per device costs a scrypt verification (~50 ms CPU).
   */
  warmConnect?: boolean;
  /**
   * At most this many connects (TCP, CONNACK, SUBACK) pending at once (default 100). Mosquitto listens
   * with a backlog of 100: a burst of 5,000 SYNs overflows it, and every dropped one waits out TCP's
   * SYN backoff (1, 3, 7, 15, 31 s) — the connect then measured the backoff, up to a minute, not the broker.
   */
  connectConcurrency?: number;
  /** Per vehicle, the highest seq its earlier runs used (lastSeqs); its events go on from there. */
  seqBefore?: ReadonlyMap<string, number>;
  log?: (line: string) => void;
}

export interface FleetResult {
  mode: FleetMode;
  vehicles: number;
  /** Seconds from the first connect call until every vehicle was online (CONNACK + SUBACK). */
  connectSeconds: number;
  connectLatencyMs: LatencySummary;
  /** With warmConnect: seconds the first (cold) connect of all vehicles at once took. */
  coldConnectSeconds: number | null;
  /** Events generated (= sent at least once). */
  eventsGenerated: number;
  eventsSettled: number;
  /** Seconds of the measured part: steady/flap the window after warm-up; herd from the first connect to the last ack. */
  seconds: number;
  /** Rows added to detections during `seconds` (from Postgres), null without countStored. */
  storedRows: number | null;
  storedPerSecond: number | null;
  /** steady/flap: CPU seconds each measured process used during the window (with meterCpu). */
  windowCpu: Array<{ name: string; cpuSeconds: number }> | null;
  /** Events settled by acks a second during `seconds`. */
  settledPerSecond: number;
  acksPerSecond: number;
  latencyMs: LatencySummary;
  /**
   * steady/flap: the simulator's own event-loop delay over the window, ms — how late it can notice an
   * ack that has arrived, a part of every publish → ack latency it measures that is not the hub's.
   */
  loopDelayMs: { p50: number; p99: number; max: number } | null;
  /** herd: seconds from the first connect until the last backlog event was acked. */
  drainSeconds: number | null;
  /** steady/flap: seconds the vehicles needed after they stopped producing to get their last acks. */
  tailSeconds: number | null;
  drained: boolean;
  /** generated: events this run (seqs seqBefore + 1 … seqBefore + generated). */
  perVehicle: Array<{ deviceId: string; generated: number; seqBefore: number; settled: number; connects: number }>;
  stats: FleetStats;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A steady vehicle's pace: each call (one per batch timer tick) returns the whole events found since
 * the previous call at `rate` a second — by the time that really passed, since under load the
 * simulator's timers fire late and a fixed share per tick would offer less than `rate` (0.7 % less
 * at 20,000/s). The first call returns one interval's worth, as if the vehicle had been driving.
 */
export function eventsDue(rate: number, intervalMs: number, now: () => number): () => number {
  let carry = 0;
  let last: number | null = null;
  return () => {
    const t = now();
    carry += (rate * (last === null ? intervalMs : t - last)) / 1000;
    last = t;
    const n = Math.floor(carry);
    carry -= n;
    return n;
  };
}

export async function runFleet(o: FleetOptions): Promise<FleetResult> {
  const log = o.log ?? (() => {});
  const stats = new FleetStats(o.keepIds ?? false);
  const seed = o.seed ?? 42;
  const steady = o.mode !== 'herd';
  const rate = o.rate ?? 4;
  const batchIntervalMs = o.batchIntervalMs ?? 5_000;
  const backlog = o.backlog ?? 10_000;
  const herdStart = Date.now() - backlog * 2_000;
  const connectConcurrency = o.connectConcurrency ?? 100;
  const vehicles = o.credentials.map((c, i) => {
    const random = seededRandom(seed * 100_003 + i);
    const source = new RoadEventSource(random);
    source.seq = o.seqBefore?.get(c.deviceId) ?? 0;
    // herd: a shift's events, one every 2 s, ending now; steady: found as they are sent.
    let ts = herdStart + Math.floor(random() * 2_000);
    const nextTs = steady ? () => Date.now() : () => (ts += 2_000);
    return new SimVehicle({
      url: o.url,
      deviceId: c.deviceId,
      secret: c.secret,
      stats,
      source,
      batchEvents: o.batchEvents ?? 500,
      maxInFlight: o.maxInFlight ?? 4,
      ackTimeoutMs: o.ackTimeoutMs ?? 30_000,
      statusIntervalMs: o.statusIntervalMs ?? 30_000,
      nextTs,
      random,
      dropAfterPublish: o.mode === 'flap' ? (o.dropAfterPublish ?? 0.05) : 0,
      reconnectDelayMs: o.reconnectDelayMs ?? [200, 2_000],
    });
  });
  const timers: NodeJS.Timeout[] = [];
  const ackChecker = setInterval(() => {
    const now = performance.now();
    for (const v of vehicles) v.checkAckTimeout(now);
  }, 1_000);
  const unsettled = () => vehicles.reduce((n, v) => n + v.unsettled, 0);
  let lastProgress = { at: performance.now(), acks: 0, settled: 0 };
  const progress = setInterval(() => {
    const now = performance.now();
    const dt = (now - lastProgress.at) / 1000;
    const online = vehicles.filter((v) => v.online).length;
    log(
      `  ${((now - stats.t0) / 1000).toFixed(0)} s: ${online}/${vehicles.length} online, ${fmtInt(stats.eventsSettled)} events settled ` +
        `(${fmtInt((stats.eventsSettled - lastProgress.settled) / dt)}/s, ${fmtInt((stats.acks - lastProgress.acks) / dt)} acks/s), ` +
        `${fmtInt(unsettled())} unsettled, ${stats.batchesResent} resent, ${stats.acksLate} late acks${stats.lastError ? `, last error: ${stats.lastError}` : ''}`,
    );
    lastProgress = { at: now, acks: stats.acks, settled: stats.eventsSettled };
  }, 5_000);

  let coldConnectSeconds: number | null = null;
  try {
    if (o.warmConnect) {
      const c0 = performance.now();
      const warm = o.credentials.map(
        (c) => new SimVehicle({ url: o.url, deviceId: c.deviceId, secret: c.secret, stats: new FleetStats(), source: new RoadEventSource(Math.random), batchEvents: 1, maxInFlight: 1, ackTimeoutMs: 60_000, statusIntervalMs: 0, nextTs: Date.now }),
      );
      await inParallel(warm, connectConcurrency, (v) => v.start());
      coldConnectSeconds = (performance.now() - c0) / 1000;
      log(`warm-up: all ${warm.length} connected once in ${coldConnectSeconds.toFixed(1)} s (cold)`);
      for (let i = 0; i < warm.length; i += 500) await Promise.all(warm.slice(i, i + 500).map((v) => v.stop()));
    }
    if (!steady) for (const v of vehicles) v.backlog = backlog;
    const countStart = o.countStored ? await o.countStored() : null;
    // Everyone at once, as fast as the broker accepts them.
    const t0 = performance.now();
    log(`connecting ${vehicles.length} vehicles to ${o.url}…`);
    await inParallel(vehicles, connectConcurrency, (v) => v.start());
    const connectSeconds = (performance.now() - t0) / 1000;
    log(`all ${vehicles.length} online in ${connectSeconds.toFixed(1)} s`);
    const connectLatencyMs = summarize(vehicles.map((v) => v.firstConnectMs ?? NaN));

    if (!steady) {
      const drained = await waitFor(() => unsettled() === 0, (o.drainTimeoutS ?? 600) * 1000);
      const drainSeconds = (stats.lastAckAt - t0) / 1000;
      const countEnd = o.countStored ? await o.countStored() : null;
      const storedRows = countEnd !== null && countStart !== null ? countEnd - countStart : null;
      return finish({
        connectSeconds,
        connectLatencyMs,
        seconds: drainSeconds,
        storedRows,
        settledInWindow: stats.eventsSettled,
        acksInWindow: stats.acks,
        latencyFrom: 0,
        latencyTo: stats.latencies.length,
        drainSeconds,
        tailSeconds: null,
        drained,
        windowCpu: null,
      });
    }

    // steady / flap: produce for durationS, measure the window after warm-up.
    const durationS = o.durationS ?? 30;
    const warmupS = Math.min(o.warmupS ?? 5, durationS / 2);
    for (const v of vehicles) {
      const due = eventsDue(rate, batchIntervalMs, () => performance.now());
      const tick = () => {
        const n = due();
        if (n > 0) v.produce(n);
      };
      timers.push(
        setTimeout(() => {
          tick();
          timers.push(setInterval(tick, batchIntervalMs));
        }, Math.random() * batchIntervalMs),
      );
      if (o.mode === 'flap') {
        const meanMs = (o.flapMeanS ?? 10) * 1000;
        const schedule = () => timers.push(setTimeout(() => (v.drop(), schedule()), -Math.log(1 - Math.random()) * meanMs));
        schedule();
      }
    }
    await sleep(warmupS * 1000);
    const windowMeter = o.meterCpu?.();
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const w0 = { at: performance.now(), stored: o.countStored ? await o.countStored() : null, settled: stats.eventsSettled, acks: stats.acks, lat: stats.latencies.length };
    await sleep((durationS - warmupS) * 1000);
    const w1 = { at: performance.now(), stored: o.countStored ? await o.countStored() : null, settled: stats.eventsSettled, acks: stats.acks, lat: stats.latencies.length };
    const windowCpu = windowMeter?.end() ?? null;
    loopDelay.disable();
    const loopDelayMs = { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
    for (const t of timers) clearTimeout(t);
    timers.length = 0;
    const stopAt = performance.now();
    const drained = await waitFor(() => unsettled() === 0, (o.drainTimeoutS ?? 600) * 1000);
    const windowS = (w1.at - w0.at) / 1000;
    return finish({
      connectSeconds,
      connectLatencyMs,
      seconds: windowS,
      storedRows: w0.stored !== null && w1.stored !== null ? w1.stored - w0.stored : null,
      settledInWindow: w1.settled - w0.settled,
      acksInWindow: w1.acks - w0.acks,
      latencyFrom: w0.lat,
      latencyTo: w1.lat,
      drainSeconds: null,
      tailSeconds: (performance.now() - stopAt) / 1000,
      drained,
      windowCpu,
      loopDelayMs,
    });
  } finally {
    clearInterval(ackChecker);
    clearInterval(progress);
    for (const t of timers) clearTimeout(t);
    for (let i = 0; i < vehicles.length; i += 500) await Promise.all(vehicles.slice(i, i + 500).map((v) => v.stop()));
  }

  function finish(m: {
    connectSeconds: number;
    connectLatencyMs: LatencySummary;
    seconds: number;
    storedRows: number | null;
    settledInWindow: number;
    acksInWindow: number;
    latencyFrom: number;
    latencyTo: number;
    drainSeconds: number | null;
    tailSeconds: number | null;
    drained: boolean;
    windowCpu: FleetResult['windowCpu'];
    loopDelayMs?: FleetResult['loopDelayMs'];
  }): FleetResult {
    return {
      mode: o.mode,
      vehicles: vehicles.length,
      connectSeconds: m.connectSeconds,
      connectLatencyMs: m.connectLatencyMs,
      coldConnectSeconds,
      eventsGenerated: vehicles.reduce((n, v) => n + v.generated - v.seqBefore, 0),
      eventsSettled: stats.eventsSettled,
      seconds: m.seconds,
      storedRows: m.storedRows,
      storedPerSecond: m.storedRows === null ? null : m.storedRows / m.seconds,
      settledPerSecond: m.settledInWindow / m.seconds,
      acksPerSecond: m.acksInWindow / m.seconds,
      latencyMs: summarize(stats.latencies.slice(m.latencyFrom, m.latencyTo)),
      loopDelayMs: m.loopDelayMs ?? null,
      drainSeconds: m.drainSeconds,
      tailSeconds: m.tailSeconds,
      drained: m.drained,
      windowCpu: m.windowCpu,
      perVehicle: vehicles.map((v) => ({ deviceId: v.deviceId, generated: v.generated - v.seqBefore, seqBefore: v.seqBefore, settled: v.settled, connects: v.connects })),
      stats,
    };
  }
}

async function waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
