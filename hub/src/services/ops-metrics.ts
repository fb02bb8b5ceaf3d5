import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { Db, PoolStats } from '../db/client.js';
import { execRows } from '../db/rows.js';
import { RULE_SEVERITY } from './alarm-conditions.js';
import { ALARM_STATUSES, ALARM_TYPES } from './alarm-types.js';

const OPEN_STATUSES = ALARM_STATUSES.filter((s) => s !== 'cleared');

export interface OpsMetricsDeps {
  db: Pick<Db, 'execute'>;
  registry: Registry;
  logger: Logger;
  /** The database pool's counters; null or absent for the embedded database (the pool gauges read 0). */
  pool?: (() => PoolStats | null) | undefined;
  /** alarms.offlineAfterS: a device is online when it sent a status or events within this many seconds. */
  offlineAfterS: number;
  clock?: () => Date;
  /** A scrape waits at most this long for the database (default 2000 ms); then the DB gauges keep their last values and db_up is 0. */
  timeoutMs?: number;
  /** The gauges of one scrape share a database read made within this many ms (default 1000). */
  cacheMs?: number;
}

/** The gauges read on each scrape (names are stable: alert rules and the dashboard use them). */
export const OPS_METRICS = {
  alarmsOpen: 'roadwatch_hub_alarms_open',
  devicesRegistered: 'roadwatch_hub_devices_registered',
  devicesOnline: 'roadwatch_hub_devices_online',
  dbUp: 'roadwatch_hub_db_up',
  poolMax: 'roadwatch_hub_db_pool_max',
  poolTotal: 'roadwatch_hub_db_pool_total',
  poolIdle: 'roadwatch_hub_db_pool_idle',
  poolWaiting: 'roadwatch_hub_db_pool_waiting',
} as const;

interface Snapshot {
  alarms: Array<{ type: string; severity: string; status: string; n: number }>;
  registered: number;
  online: number;
}

/**
 * Registers gauges collected from the database when Prometheus scrapes (one pair of small queries
 * per scrape, shared by the gauges): open alarms by type, severity and status, devices registered and
 * online, whether the database answered; plus the pool counters, read from the pool itself (all 0
 * on the embedded database, which has no pool). When the database does not answer, the database
 * gauges keep their last values and `roadwatch_hub_db_up` is 0 — a database outage must not look
 * like a fleet gone offline. These are the same on every hub replica (the database is shared):
 * aggregate them with max(). Registering again (a hub restarted in one process) replaces the
 * previous collectors.
 */
export function registerOpsMetrics(deps: OpsMetricsDeps): void {
  const { registry, db } = deps;
  const clock = deps.clock ?? (() => new Date());
  const timeoutMs = deps.timeoutMs ?? 2_000;
  const cacheMs = deps.cacheMs ?? 1_000;
  const log = deps.logger.child({ svc: 'ops-metrics' });
  for (const name of Object.values(OPS_METRICS)) registry.removeSingleMetric(name);

  let current: { at: number; snapshot: Promise<Snapshot | null> } | null = null;
  /** One database read per scrape: the gauges collect in parallel and share it. */
  const snapshot = (): Promise<Snapshot | null> => {
    const now = Date.now();
    if (current && now - current.at < cacheMs) return current.snapshot;
    const read = withTimeout(readSnapshot(db, clock(), deps.offlineAfterS), timeoutMs).catch((err: unknown) => {
      log.warn({ err }, 'metrics: could not read alarms and devices from the database; the gauges keep their last values (roadwatch_hub_db_up 0)');
      return null;
    });
    current = { at: now, snapshot: read };
    return read;
  };

  const registers = [registry];
  new Gauge({
    name: OPS_METRICS.alarmsOpen,
    help: 'Open (not cleared) alarms by type, severity and status (active_unack, active_ack), from the database',
    labelNames: ['type', 'severity', 'status'] as const,
    registers,
    async collect() {
      const s = await snapshot();
      if (!s) return; // keep the last values read; db_up says they are stale
      this.reset();
      // Every type is present (0 when none is open), so alerts and panels never see a missing series.
      for (const type of ALARM_TYPES) for (const status of OPEN_STATUSES) this.set({ type, severity: RULE_SEVERITY[type], status }, 0);
      for (const row of s.alarms) this.set({ type: row.type, severity: row.severity, status: row.status }, row.n);
    },
  });
  new Gauge({
    name: OPS_METRICS.devicesRegistered,
    help: 'Devices registered with roadwatch-hub devices add',
    registers,
    async collect() {
      const s = await snapshot();
      if (s) this.set(s.registered);
    },
  });
  new Gauge({
    name: OPS_METRICS.devicesOnline,
    help: 'Devices online: a status or events within alarms.offlineAfterS, and no offline status (last will) since',
    registers,
    async collect() {
      const s = await snapshot();
      if (s) this.set(s.online);
    },
  });
  new Gauge({
    name: OPS_METRICS.dbUp,
    help: '1 when the database answered the metrics queries of this scrape, else 0',
    registers,
    async collect() {
      this.set((await snapshot()) ? 1 : 0);
    },
  });
  const poolGauge = (name: string, help: string, pick: (p: PoolStats) => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const stats = deps.pool?.() ?? null;
        this.set(stats ? pick(stats) : 0);
      },
    });
  };
  poolGauge(OPS_METRICS.poolMax, 'Largest number of Postgres connections the pool may open (db.poolSize)', (p) => p.max);
  poolGauge(OPS_METRICS.poolTotal, 'Postgres connections open in the pool', (p) => p.total);
  poolGauge(OPS_METRICS.poolIdle, 'Postgres connections open and idle', (p) => p.idle);
  poolGauge(OPS_METRICS.poolWaiting, 'Queries waiting for a Postgres connection (the pool is exhausted while > 0)', (p) => p.waiting);
}

async function readSnapshot(db: Pick<Db, 'execute'>, now: Date, offlineAfterS: number): Promise<Snapshot> {
  const alarms = await execRows<{ type: string; severity: string; status: string; n: number | string }>(
    db,
    sql`select type, severity, status, count(*)::int as n from alarms where status <> 'cleared' group by type, severity, status`,
  );
  // Online as the device_offline rule sees it: activity (events, or an online status) within
  // offlineAfterS, and no offline status (last will, clean stop) newer than the last events.
  const [devices] = await execRows<{ registered: number | string; online: number | string }>(
    db,
    sql`select count(*)::int as registered,
          count(*) filter (
            where not coalesce(s.state = 'offline' and (d.last_seen_at is null or d.last_seen_at <= s.updated_at), false)
              and greatest(d.last_seen_at, case when s.state = 'online' then s.updated_at end)
                  > ${now.toISOString()}::timestamptz - make_interval(secs => ${offlineAfterS}::double precision)
          )::int as online
        from devices d left join device_status s on s.device_id = d.device_id`,
  );
  return {
    alarms: alarms.map((r) => ({ type: r.type, severity: r.severity, status: r.status, n: Number(r.n) })),
    registered: Number(devices?.registered ?? 0),
    online: Number(devices?.online ?? 0),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
