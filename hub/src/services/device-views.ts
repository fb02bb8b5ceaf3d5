import { sql, type SQL } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { execRows } from '../db/rows.js';
import { InvalidRequestError, NotFoundError } from './errors.js';

export const DEVICE_STATES = ['online', 'offline', 'unknown'] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

/** A vehicle as fleet managers see it: the registry row, its latest status and its latest event's model. */
export interface DeviceView {
  deviceId: string;
  createdAt: string;
  /** From the latest status: `online`, `offline` (disconnected: last will or shutdown), `unknown` (no status yet). */
  state: DeviceState;
  online: boolean;
  /** The last time the hub heard from the vehicle: its latest batch of events or its latest status, whichever is newer. */
  lastSeenAt: string | null;
  /** When its latest batch of events arrived. */
  lastEventAt: string | null;
  /** When its latest status arrived. */
  statusAt: string | null;
  /** The outbox as the latest status reported it; null fields were not reported. */
  queue: { depth: number | null; bytes: number | null; oldestUnsyncedAgeS: number | null; lastAckAt: string | null; evictedTotal: number | null };
  versions: { agent: string | null; model: string | null };
  /** Sensor states from the latest status (`camera: ok`, `gps: fault`, …). */
  sensors: Record<string, string>;
  faults: string[];
  /** The detector's inference p95 (ms) and frames detected a second from the latest status; null = not reported. */
  detector: { p95Ms: number | null; fps: number | null };
}

export interface DeviceViewPage {
  items: DeviceView[];
  total: number;
  limit: number;
  offset: number;
}

export interface DeviceViewQuery {
  limit?: number | undefined;
  offset?: number | undefined;
  state?: readonly DeviceState[] | undefined;
}

export interface DeviceViewsDeps {
  db: Db;
  logger: Logger;
}

const MAX_LIMIT = 1000;

/**
 * Read side of the device registry for the REST API: each device with its latest status (device_status)
 * and the model of its newest event (one backward step of detections_device_seq_idx per device).
 */
export class DeviceViewService {
  private readonly db: Db;

  constructor(deps: DeviceViewsDeps) {
    this.db = deps.db;
  }

  /** By device id, `offset` paging. */
  async list(query: DeviceViewQuery = {}): Promise<DeviceViewPage> {
    const limit = query.limit ?? 100;
    const offset = query.offset ?? 0;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new InvalidRequestError(`limit must be an integer from 1 to ${MAX_LIMIT}, got ${limit}`);
    if (!Number.isInteger(offset) || offset < 0) throw new InvalidRequestError(`offset must be a non-negative integer, got ${offset}`);
    const bad = (query.state ?? []).filter((s) => !(DEVICE_STATES as readonly string[]).includes(s));
    if (bad.length) throw new InvalidRequestError(`state: unknown value ${bad.join(', ')}`, `use one of ${DEVICE_STATES.join(', ')}`);

    const where = query.state?.length ? sql`where ${sql.join(query.state.map(stateFilter), sql` or `)}` : sql``;
    const [rows, [total]] = await Promise.all([
      execRows(this.db, sql`${SELECT} ${where} order by d.device_id limit ${limit} offset ${offset}`),
      execRows<{ n: number }>(this.db, sql`select count(*)::int as n from devices d left join device_status s on s.device_id = d.device_id ${where}`),
    ]);
    return { items: rows.map(toView), total: Number(total?.n ?? 0), limit, offset };
  }

  /** One device; NotFoundError when it is not registered. */
  async get(deviceId: string): Promise<DeviceView> {
    const [row] = await execRows(this.db, sql`${SELECT} where d.device_id = ${deviceId}`);
    if (!row) throw new NotFoundError(`device ${deviceId} is not registered`);
    return toView(row);
  }
}

const SELECT = sql`select d.device_id, d.created_at, d.last_seen_at, s.state, s.payload, s.updated_at as status_at,
    (select x.model from detections x where x.device_id = d.device_id order by x.seq desc limit 1) as model
  from devices d left join device_status s on s.device_id = d.device_id`;

function stateFilter(state: DeviceState): SQL {
  return state === 'unknown' ? sql`(s.state is null or s.state not in ('online', 'offline'))` : sql`s.state = ${state}`;
}

function toView(row: Record<string, unknown>): DeviceView {
  const payload = (typeof row.payload === 'string' ? JSON.parse(row.payload) : (row.payload ?? {})) as Record<string, unknown>;
  const state: DeviceState = row.state === 'online' || row.state === 'offline' ? row.state : 'unknown';
  const lastEventAt = iso(row.last_seen_at);
  const statusAt = iso(row.status_at);
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const detector = (payload.detector && typeof payload.detector === 'object' ? payload.detector : {}) as Record<string, unknown>;
  return {
    deviceId: row.device_id as string,
    createdAt: iso(row.created_at)!,
    state,
    online: state === 'online',
    lastSeenAt: [lastEventAt, statusAt].filter((t): t is string => t !== null).sort().at(-1) ?? null,
    lastEventAt,
    statusAt,
    queue: {
      depth: num(payload.queueDepth),
      bytes: num(payload.queueBytes),
      oldestUnsyncedAgeS: num(payload.oldestUnsyncedAgeS),
      lastAckAt: str(payload.lastAckAt),
      evictedTotal: num(payload.evictedTotal),
    },
    versions: { agent: str(payload.agentVersion), model: str(row.model) },
    sensors: payload.sensors && typeof payload.sensors === 'object' ? (payload.sensors as Record<string, string>) : {},
    faults: Array.isArray(payload.faults) ? payload.faults.filter((f): f is string => typeof f === 'string') : [],
    detector: { p95Ms: num(detector.p95Ms), fps: num(detector.fps) },
  };
}

function iso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return (value instanceof Date ? value : new Date(value as string)).toISOString();
}
