import { StatusSchema } from '@roadwatch/shared';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { AlarmsConfig } from '../config/schema.js';
import type { Db } from '../db/client.js';
import { execPrepared, execRows } from '../db/rows.js';
import { evaluateDevice, hotspotAlarm, RULES_ACTOR, sensorSource, severeCandidate, type CellSupport, type DeviceFacts, type DeviceVerdict, type SevereCandidate } from './alarm-conditions.js';
import { DEVICE_ALARM_TYPES, type Alarm, type RaiseAlarmInput } from './alarm-types.js';
import type { AlarmService } from './alarms.js';
import type { SevereAlarmRow } from './alarms-sql.js';
import type { DetectionRow } from './ingest-sql.js';
import type { RecordedStatus } from './status.js';

export interface AlarmRulesDeps {
  db: Db;
  alarms: AlarmService;
  logger: Logger;
  config: AlarmsConfig;
  /** aggregates.h3Resolution: the cells of the rollups, hence of hotspots. */
  h3Resolution: number;
  clock?: () => Date;
  /**
   * How long cells touched by ingests are collected before their hotspot check (default 1000 ms):
   * under load one query checks the cells of many batches. 0 in tests.
   */
  hotspotDelayMs?: number;
}

/** What the ingest service asks of the rules (see IngestService). */
export interface IngestRules {
  /** Severe-damage alarms for a batch's events; raised inside the ingest statement for those really inserted. */
  severeFor(deviceId: string, events: DetectionRow[]): SevereAlarmRow[];
  /** After commit, with the rows really inserted: queues the hotspot check of the cells they touched. */
  afterIngest(deviceId: string, inserted: DetectionRow[]): void;
}

const CELL_CHUNK = 1000;
const HOUR_MS = 3_600_000;

/**
 * The default alarm rules (docs/ALARMS.md). All evaluation is idempotent — it computes the alarms that
 * should be open from stored facts and raises (a no-op when the open alarm already says so) or clears
 * them — so ingest, status updates, the timer and several hub replicas may run it in any order.
 *
 * - severe_damage: inside the ingest statement (severeFor), exactly once per inserted event.
 * - hotspot: after an ingest commits, for the cells it touched (queued and coalesced, off the ack
 *   path); and on the timer for every cell, which also clears hotspots that left the window.
 * - device_offline, outbox_backlog, sensor_fault: on every status update of the device, and on the
 *   timer for every device.
 */
export class AlarmRules implements IngestRules {
  private readonly db: Db;
  private readonly alarms: AlarmService;
  private readonly logger: Logger;
  private readonly config: AlarmsConfig;
  private readonly resolution: number;
  private readonly clock: () => Date;
  private readonly startedAt: Date;
  private readonly hotspotDelayMs: number;
  private readonly pendingCells = new Set<string>();
  private worker: Promise<void> | null = null;
  private flushing = false;
  /** Ends the current coalescing window early (flush). */
  private wake: (() => void) | null = null;

  constructor(deps: AlarmRulesDeps) {
    this.db = deps.db;
    this.alarms = deps.alarms;
    this.logger = deps.logger.child({ svc: 'alarm-rules' });
    this.config = deps.config;
    this.resolution = deps.h3Resolution;
    this.clock = deps.clock ?? (() => new Date());
    this.startedAt = this.clock();
    this.hotspotDelayMs = deps.hotspotDelayMs ?? 1000;
  }

  severeFor(deviceId: string, events: DetectionRow[]): SevereAlarmRow[] {
    if (!this.config.severe.classes.length) return [];
    const bySource = new Map<string, { ids: Set<string>; newest: SevereCandidate }>();
    for (const e of events) {
      const c = severeCandidate(deviceId, e, this.config.severe);
      if (!c) continue;
      const seen = bySource.get(c.source);
      if (!seen) bySource.set(c.source, { ids: new Set([c.eventId]), newest: c });
      else {
        seen.ids.add(c.eventId); // a repeat inside the batch counts once
        if (c.ts > seen.newest.ts || (c.ts === seen.newest.ts && c.eventId > seen.newest.eventId)) seen.newest = c;
      }
    }
    return [...bySource.values()].map(({ ids, newest }) => ({
      source: newest.source,
      event_ids: [...ids],
      severity: newest.alarm.severity,
      message: newest.alarm.message,
      details: newest.alarm.details ?? {},
    }));
  }

  afterIngest(_deviceId: string, inserted: DetectionRow[]): void {
    for (const e of inserted) this.pendingCells.add(e.h3_cell);
    if (this.pendingCells.size) this.kick();
  }

  /** Resolves when the queued hotspot checks are done (tests). */
  async idle(): Promise<void> {
    while (this.worker) await this.worker;
  }

  /** Runs the queued hotspot checks now, without waiting out the coalescing window, and resolves when they are done (shutdown, benchmarks). */
  async flush(): Promise<void> {
    this.flushing = true;
    this.wake?.();
    try {
      await this.idle();
    } finally {
      this.flushing = false;
    }
  }

  /** Every rule for every device and cell: what the timer runs. Idempotent. */
  async evaluateAll(): Promise<void> {
    await this.evaluateHotspots();
    await this.evaluateDevices();
  }

  /**
   * Hotspots of the given cells — only those without an open hotspot (after an ingest the figures can
   * only have grown; an open hotspot's figures are refreshed by the timer, so a busy cell does not
   * rewrite its alarm on every batch) — or of every cell (raise or refresh, and clear open hotspots no
   * longer over the thresholds).
   */
  async evaluateHotspots(cells?: readonly string[]): Promise<void> {
    if (cells) {
      for (let i = 0; i < cells.length; i += CELL_CHUNK) {
        await this.alarms.raiseMany((await this.cellSupport(cells.slice(i, i + CELL_CHUNK), true)).map((s) => this.hotspot(s)));
      }
      return;
    }
    const hot = await this.cellSupport(null);
    const hotCells = new Set(hot.map((s) => s.cell));
    for (let i = 0; i < hot.length; i += CELL_CHUNK) await this.alarms.raiseMany(hot.slice(i, i + CELL_CHUNK).map((s) => this.hotspot(s)));
    for (const open of await this.alarms.listOpen(['hotspot'])) {
      if (!hotCells.has(open.source)) await this.alarms.clearOpen('hotspot', open.source, RULES_ACTOR);
    }
  }

  /**
   * After a status was stored: the device rules of its device — unless the status can change no
   * alarm: an online status whose own figures raise nothing (evaluateDevice on them alone: the device
   * is active now, so not offline) while no device alarm of it is open, so there is nothing to clear
   * either. That is every healthy vehicle every 30 s; reading its facts and open alarms for nothing
   * cost two queries per status. The timer still evaluates every device.
   */
  async afterStatus(r: RecordedStatus): Promise<'evaluated' | 'skipped'> {
    if (!r.alarmOpen && r.status.state === 'online') {
      const facts: DeviceFacts = { deviceId: r.deviceId, lastSeenAt: null, status: r.status, statusAt: r.at, sensorFaultSince: r.sensorFaultSince };
      if (!raisesAny(evaluateDevice(facts, this.config, this.clock(), this.startedAt))) return 'skipped';
    }
    await this.evaluateDevices(r.deviceId);
    return 'evaluated';
  }

  /** device_offline, outbox_backlog and sensor_fault of one device (after its status changed) or of all. */
  async evaluateDevices(deviceId?: string): Promise<void> {
    const facts = await this.deviceFacts(deviceId);
    const open = await this.alarms.listOpen(DEVICE_ALARM_TYPES, deviceId);
    const openBy = new Map<string, Alarm[]>();
    for (const a of open) if (a.deviceId) openBy.set(a.deviceId, [...(openBy.get(a.deviceId) ?? []), a]);
    const now = this.clock();
    for (const f of facts) {
      const verdict = evaluateDevice(f, this.config, now, this.startedAt);
      const mine = openBy.get(f.deviceId) ?? [];
      const isOpen = (type: Alarm['type'], source: string) => mine.some((a) => a.type === type && a.source === source);
      const apply = async (type: Alarm['type'], source: string, want: RaiseAlarmInput | null | undefined) => {
        if (want) await this.raise(want);
        else if (want === null && isOpen(type, source)) await this.alarms.clearOpen(type, source, RULES_ACTOR);
      };
      await apply('device_offline', f.deviceId, verdict.offline);
      await apply('outbox_backlog', f.deviceId, verdict.backlog);
      for (const [sensor, want] of verdict.sensors) await apply('sensor_fault', sensorSource(f.deviceId, sensor), want);
      // A sensor the online status no longer lists is not in fault any more.
      const listed = f.status?.state === 'online' && f.status.sensors ? f.status.sensors : null;
      if (listed) {
        for (const a of mine) {
          const sensor = typeof a.details.sensor === 'string' ? a.details.sensor : null;
          if (a.type === 'sensor_fault' && sensor !== null && !(sensor in listed)) await this.alarms.clearOpen('sensor_fault', a.source, RULES_ACTOR);
        }
      }
    }
  }

  private hotspot(s: CellSupport): RaiseAlarmInput {
    return hotspotAlarm(s, this.resolution, this.config.hotspot.days);
  }

  private async raise(input: RaiseAlarmInput): Promise<void> {
    await this.alarms.raise(input);
  }

  /** Cells over the hotspot thresholds within the window — the current hour and the `days` × 24 − 1 before it — from agg_hourly_cell. */
  private async cellSupport(cells: readonly string[] | null, newOnly = false): Promise<CellSupport[]> {
    if (cells?.length === 0) return [];
    const { minEvents, minDevices, days } = this.config.hotspot;
    const firstHour = new Date((Math.floor(this.clock().getTime() / HOUR_MS) - (days * 24 - 1)) * HOUR_MS).toISOString();
    const window = sql`h.resolution = ${this.resolution} and h.hour >= ${firstHour}::timestamptz`;
    // Given cells (after an ingest): one primary-key range per cell, whatever the planner thinks of the
    // table (a young or fast-growing agg_hourly_cell has stale statistics, and a plan that scans it whole
    // per check was most of the rules' cost), and cells with an open hotspot skipped before reading.
    const rows = cells
      ? await execRows<{ cell: string; events: number; devices: number }>(
          this.db,
          sql`select c.cell, s.events, s.devices
              from (
                select distinct j.cell from json_array_elements_text(${JSON.stringify(cells)}::json) as j(cell)
                ${newOnly ? sql`where not exists (select 1 from alarms a where a.type = 'hotspot' and a.source = j.cell and a.status <> 'cleared')` : sql``}
              ) c
              cross join lateral (
                select sum(h.events)::int as events, count(distinct h.device_id)::int as devices
                from agg_hourly_cell h where h.cell = c.cell and ${window}
              ) s
              where s.events >= ${minEvents} and s.devices >= ${minDevices}
              order by c.cell`,
        )
      : await execRows<{ cell: string; events: number; devices: number }>(
          this.db,
          sql`select h.cell, sum(h.events)::int as events, count(distinct h.device_id)::int as devices
              from agg_hourly_cell h
              where ${window}
              group by h.cell
              having sum(h.events) >= ${minEvents} and count(distinct h.device_id) >= ${minDevices}
              order by h.cell`,
        );
    return rows.map((r) => ({ cell: r.cell, events: Number(r.events), devices: Number(r.devices) }));
  }

  private async deviceFacts(deviceId: string | undefined): Promise<DeviceFacts[]> {
    // Prepared: run after every status update, for its device.
    const rows = await execPrepared<{ device_id: string; last_seen_at: unknown; state: string | null; payload: unknown; status_at: unknown; sensor_fault_since: unknown }>(
      this.db,
      'rw_device_facts',
      sql`select d.device_id, d.last_seen_at, s.state, s.payload, s.updated_at as status_at, s.sensor_fault_since
          from devices d left join device_status s on s.device_id = d.device_id
          ${deviceId === undefined ? sql`` : sql`where d.device_id = ${deviceId}`}
          order by d.device_id`,
    );
    return rows.map((r) => {
      const parsed = r.payload === null ? null : StatusSchema.safeParse(typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload);
      return {
        deviceId: r.device_id,
        lastSeenAt: toDate(r.last_seen_at),
        status: parsed?.success ? parsed.data : null,
        statusAt: toDate(r.status_at),
        sensorFaultSince: (typeof r.sensor_fault_since === 'string' ? JSON.parse(r.sensor_fault_since) : (r.sensor_fault_since ?? {})) as Record<string, string>,
      };
    });
  }

  private kick(): void {
    if (this.worker) return;
    this.worker = this.drainCells().finally(() => {
      this.worker = null;
      if (this.pendingCells.size) this.kick();
    });
  }

  /** Coalesces: cells touched by the batches of one delay are checked together, each once. */
  private async drainCells(): Promise<void> {
    while (this.pendingCells.size) {
      if (this.hotspotDelayMs > 0 && !this.flushing) await this.window(this.hotspotDelayMs);
      const cells = [...this.pendingCells];
      this.pendingCells.clear();
      try {
        await this.evaluateHotspots(cells);
      } catch (err) {
        // The timer evaluates every cell again; nothing is lost but time.
        this.logger.warn({ err, cells: cells.length }, 'hotspot check after ingest failed; the timer will catch up');
      }
    }
  }

  private window(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const end = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(end, ms);
      this.wake = end;
    });
  }
}

function toDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value : new Date(value as string);
}

function raisesAny(v: DeviceVerdict): boolean {
  return Boolean(v.offline || v.backlog || [...v.sensors.values()].some(Boolean));
}
