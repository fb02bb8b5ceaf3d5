// The fleet simulator at small scale against a real `roadwatch-hub serve` (built hub; PGlite, or
// Postgres when ROADWATCH_TEST_DATABASE_URL is set): 20 vehicles per mode, exactly once verified,
// flap mode produces duplicates that are stored once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { BatchSchema, EventSchema } from '@roadwatch/shared';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../hub/src/db/client.js';
import { execRows } from '../../hub/src/db/rows.js';
import { createE2eDatabase } from '../../test/support/database.js';
import { CITY_BBOX, CLASS_WEIGHTS, RoadEventSource, seededRandom } from './events.js';
import { eventsDue, runFleet, type FleetMode, type FleetResult } from './fleet.js';
import { cpuMeter, startFleetHub, type FleetHub } from './infra.js';
import { fleetDeviceIds } from './provision.js';
import { verifyExactlyOnce } from './verify.js';
import { buildBatchPayload } from '../../agent/src/uplink/batch.js';

describe('road events', () => {
  it('are valid wire events along streets in the city, of the four classes, numbered 1…n', () => {
    const source = new RoadEventSource(seededRandom(7));
    const t0 = Date.UTC(2026, 11, 4, 8);
    const events = Array.from({ length: 2_000 }, (_, i) => source.next(t0 + i * 2_000));
    for (const e of events) EventSchema.parse(e);
    BatchSchema.parse(JSON.parse(buildBatchPayload({ deviceId: 'sim-1', batchId: events[0]!.eventId, sentAt: new Date().toISOString(), payloads: events.slice(0, 500).map((e) => JSON.stringify(e)) })));
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(new Set(events.map((e) => e.eventId)).size).toBe(2_000);
    expect(events.every((e) => /^[0-9a-f]{8}-[0-9a-f]{4}-7/.test(e.eventId))).toBe(true);
    expect(events.every((e) => e.lat >= CITY_BBOX.minLat - 0.001 && e.lat <= CITY_BBOX.maxLat + 0.001 && e.lon >= CITY_BBOX.minLon - 0.001 && e.lon <= CITY_BBOX.maxLon + 0.001)).toBe(true);
    const classes = new Set(events.map((e) => e.class));
    expect([...classes].sort()).toEqual(CLASS_WEIGHTS.map(([c]) => c));
    // The vehicle moves: consecutive events 2 s apart are metres to ~35 m apart, not teleported.
    const steps = events.slice(1).map((e, i) => Math.hypot((e.lat - events[i]!.lat) * 111_320, (e.lon - events[i]!.lon) * 67_800));
    expect(Math.max(...steps)).toBeLessThan(60);
    expect(steps.reduce((a, b) => a + b, 0) / steps.length).toBeGreaterThan(5);
  });
});

describe('eventsDue', () => {
  /** What eventsDue gives at a first tick and `count` more, `everyMs` apart on a fake clock. */
  const ticks = (rate: number, intervalMs: number, count: number, everyMs: number): number[] => {
    let t = 0;
    const due = eventsDue(rate, intervalMs, () => t);
    const given = [due()];
    for (let i = 1; i <= count; i++) {
      t = i * everyMs;
      given.push(due());
    }
    return given;
  };

  it('offers the rate over the time that really passed, however late the ticks fire', () => {
    // Ticks 70 ms late every time, as a busy simulator's timers fire: 10.07 s apart.
    const given = ticks(4, 10_000, 100, 10_070);
    expect(given[0]).toBe(40);
    expect(given.slice(1).every((n) => n === 40 || n === 41)).toBe(true);
    // 40 for the first interval plus 4/s over the 1,007 s that passed: nothing lost to the lateness.
    expect(given.reduce((a, b) => a + b, 0)).toBe(40 + Math.floor(4 * 1_007));
  });

  it('carries fractions over, so a rate below one event per interval still adds up', () => {
    const given = ticks(0.2, 1_000, 50, 1_000);
    expect(given.reduce((a, b) => a + b, 0)).toBe(10);
  });
});

describe('fleet simulator against a real hub', () => {
  const PER_MODE = 20;
  // The same 20 vehicles run the three modes one after the other; each run goes on from their last seq.
  const ids = fleetDeviceIds(PER_MODE, 'fleet');
  const seqBefore = new Map(ids.map((id) => [id, 0]));
  let dir: string;
  let db: Awaited<ReturnType<typeof createE2eDatabase>>;
  let hub: FleetHub;
  const results = new Map<FleetMode, FleetResult>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rw-fleet-test-'));
    db = await createE2eDatabase();
    hub = await startFleetHub({ broker: 'embedded', databaseUrl: db.url, dir, deviceIds: ids });
  }, 60_000);

  afterAll(async () => {
    await hub?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (mode: FleetMode, extra: Parameters<typeof runFleet>[0] extends infer O ? Partial<O> : never) => {
    const result = await runFleet({ mode, url: hub.vehicleUrl, credentials: hub.credentials, keepIds: true, statusIntervalMs: 2_000, seqBefore, ...extra });
    results.set(mode, result);
    for (const v of result.perVehicle) seqBefore.set(v.deviceId, v.seqBefore + v.generated);
    expect(result.drained).toBe(true);
    expect(result.stats.ackedRejected).toBe(0);
    expect(result.stats.acksInvalid).toBe(0);
    expect(result.eventsSettled).toBeGreaterThanOrEqual(result.eventsGenerated);
    return result;
  };

  it('steady: every vehicle publishes at its rate and gets an ack per batch', async () => {
    const r = await run('steady', { rate: 20, batchIntervalMs: 500, durationS: 2.5, warmupS: 1, meterCpu: () => cpuMeter(hub.processes()) });
    expect(r.perVehicle.every((v) => v.generated > 0 && v.settled === v.generated)).toBe(true);
    // The hub's CPU during the measured window: it ingested there, so it used some, and less than the window's length.
    expect(r.windowCpu?.map((c) => c.name)).toEqual(['hub 1']);
    expect(r.windowCpu![0]!.cpuSeconds).toBeGreaterThan(0);
    expect(r.windowCpu![0]!.cpuSeconds).toBeLessThan(r.seconds * 2);
    expect(r.stats.batchesResent).toBe(0);
    expect(r.latencyMs.count).toBeGreaterThan(0);
    expect(r.latencyMs.p99).toBeLessThan(5_000);
    // The simulator's own event-loop delay over the window, reported beside the latency it is part of.
    const delay = r.loopDelayMs!;
    expect(delay.p50).toBeGreaterThan(0);
    expect(delay.p99).toBeGreaterThanOrEqual(delay.p50);
    expect(delay.max).toBeGreaterThanOrEqual(delay.p99);
  }, 30_000);

  it('herd: all connect at once with a backlog and drain it', async () => {
    const r = await run('herd', { backlog: 300, batchEvents: 100, maxInFlight: 2 });
    expect(r.eventsGenerated).toBe(PER_MODE * 300);
    expect(r.drainSeconds).toBeGreaterThan(0);
    expect(r.loopDelayMs).toBeNull(); // no steady window
  }, 30_000);

  it('flap: links drop and reconnect, unacked batches are sent again (duplicates)', async () => {
    const r = await run('flap', { rate: 40, batchIntervalMs: 300, durationS: 3, warmupS: 1, dropAfterPublish: 0.3, flapMeanS: 1.5, reconnectDelayMs: [50, 300] });
    expect(r.stats.drops).toBeGreaterThan(5);
    expect(r.stats.batchesResent).toBeGreaterThan(0);
    expect(r.stats.ackedDuplicates).toBeGreaterThan(0);
  }, 30_000);

  it('every event of every mode is stored exactly once; statuses are valid', async () => {
    expect(results.size).toBe(3);
    await hub.stop(); // PGlite serves one process: read the database once the hub is gone.
    const database = await openDatabase({ databaseUrl: db.url, dataDir: join(dir, 'hub-1'), logger: pino({ level: 'silent' }) });
    try {
      for (const [mode, r] of results) {
        const report = await verifyExactlyOnce(database.db, r.perVehicle, r.stats.eventIds);
        expect(r.perVehicle.some((v) => v.seqBefore > 0)).toBe(mode !== 'steady');
        expect({ mode, ...report, seconds: 0 }).toMatchObject({ mode, ok: true, missing: 0, extra: 0, exactIds: true, rows: r.eventsGenerated });
      }
      // Each vehicle's retained statuses reached the hub; the last one is the offline of its clean stop.
      const all = ids;
      const states = await execRows<{ state: string; n: number }>(database.db, sql`select state, count(*)::int as n from device_status where device_id in (${sql.join(all.map((id) => sql`${id}`), sql`, `)}) group by state`);
      expect(states).toEqual([{ state: 'offline', n: all.length }]);
    } finally {
      await database.close();
    }
  }, 30_000);
});
