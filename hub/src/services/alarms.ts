import { sql, type SQL } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { execPrepared, execRows } from '../db/rows.js';
import {
  ALARM_SEVERITIES,
  ALARM_STATUSES,
  ALARM_TYPES,
  type Alarm,
  type AlarmListQuery,
  type AlarmPage,
  type AlarmType,
  type RaiseAlarmInput,
  type RaiseResult,
} from './alarm-types.js';
import { ALARM_COLUMNS, raiseManyStatement, raiseStatement, toAlarm } from './alarms-sql.js';
import { ConflictError, InvalidRequestError, NotFoundError } from './errors.js';

export interface AlarmServiceDeps {
  db: Db;
  logger: Logger;
  clock?: () => Date;
}

export const ALARM_LIST_MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 100;

/**
 * Alarms and their lifecycle: active_unack → active_ack → cleared, or active_* → cleared.
 * One open alarm per (type, source), enforced by the database (docs/ALARMS.md). No HTTP here:
 * failures are NotFoundError / ConflictError / InvalidRequestError.
 */
export class AlarmService {
  private readonly db: Db;
  private readonly logger: Logger;
  private readonly clock: () => Date;

  constructor(deps: AlarmServiceDeps) {
    this.db = deps.db;
    this.logger = deps.logger.child({ svc: 'alarms' });
    this.clock = deps.clock ?? (() => new Date());
  }

  /**
   * Opens an alarm, or re-fires the open one of the same (type, source): idempotent per open alarm,
   * safe from any number of concurrent callers. Raising again with the same severity, message,
   * details and device changes nothing (`unchanged`).
   */
  async raise(input: RaiseAlarmInput): Promise<RaiseResult> {
    const row = { ...input, deviceId: input.deviceId ?? null, details: input.details ?? {}, now: this.clock().toISOString() };
    for (let attempt = 1; ; attempt++) {
      const [written] = await execRows(this.db, raiseStatement(row));
      if (written) {
        const alarm = toAlarm(written);
        const outcome = written.inserted ? 'created' : 'refired';
        this.logger.info({ alarmId: alarm.id, type: alarm.type, source: alarm.source, severity: alarm.severity, outcome }, outcome === 'created' ? 'alarm raised' : 'alarm re-fired');
        return { alarm, outcome };
      }
      // Nothing changed: the open alarm already says this. (Read in a new statement: the conflicting row may
      // have been committed by a concurrent raise after this statement's snapshot was taken.)
      const open = await this.findOpen(input.type, input.source);
      if (open) return { alarm: open, outcome: 'unchanged' };
      // Cleared between the two statements: raise anew.
      if (attempt >= 3) throw new Error(`alarm ${input.type}/${input.source} kept changing while being raised`);
    }
  }

  /**
   * Raises many alarms in one statement, as raise() does one (same conflict rule: open → re-fired when
   * changed, unchanged otherwise). For rules that fire in bulk; a later input for the same (type, source) wins.
   */
  async raiseMany(inputs: readonly RaiseAlarmInput[]): Promise<{ created: number; refired: number }> {
    if (!inputs.length) return { created: 0, refired: 0 };
    const now = this.clock().toISOString();
    const unique = new Map<string, RaiseAlarmInput>();
    for (const input of inputs) unique.set(`${input.type}\u0000${input.source}`, input);
    const rows = [...unique.values()].map((i) => ({ ...i, deviceId: i.deviceId ?? null, details: i.details ?? {}, now }));
    const written = await execRows<{ id: unknown; type: string; source: string; severity: string; inserted: boolean }>(this.db, raiseManyStatement(rows));
    let created = 0;
    for (const w of written) {
      if (!w.inserted) continue;
      created++;
      this.logger.info({ alarmId: Number(w.id), type: w.type, source: w.source, severity: w.severity, outcome: 'created' }, 'alarm raised');
    }
    return { created, refired: written.length - created };
  }

  /** active_unack → active_ack. An acknowledged alarm is a ConflictError ("already acknowledged"), so is a cleared one. */
  async ack(id: number, by: string): Promise<Alarm> {
    const now = this.clock().toISOString();
    const [row] = await execRows(
      this.db,
      sql`update alarms a set status = 'active_ack', acked_at = ${now}::timestamptz, acked_by = ${by}, updated_at = ${now}::timestamptz
          where a.id = ${checkId(id)} and a.status = 'active_unack' returning ${ALARM_COLUMNS}`,
    );
    if (row) {
      const alarm = toAlarm(row);
      this.logger.info({ alarmId: id, by }, 'alarm acknowledged');
      return alarm;
    }
    const current = await this.get(id);
    if (current.status === 'active_ack') throw new ConflictError(`alarm ${id} is already acknowledged (by ${current.ackedBy ?? 'unknown'} at ${current.ackedAt}); nothing to do — clear it once the problem is fixed`);
    throw new ConflictError(
      `alarm ${id} is cleared (by ${current.clearedBy ?? 'unknown'} at ${current.clearedAt}); a cleared alarm cannot be acknowledged — nothing to do: if the problem comes back, the rule opens a new alarm`,
    );
  }

  /** active_unack | active_ack → cleared. Clearing a cleared alarm is a ConflictError ("already cleared"). */
  async clear(id: number, by: string): Promise<Alarm> {
    const now = this.clock().toISOString();
    const [row] = await execRows(
      this.db,
      sql`update alarms a set status = 'cleared', cleared_at = ${now}::timestamptz, cleared_by = ${by}, updated_at = ${now}::timestamptz
          where a.id = ${checkId(id)} and a.status <> 'cleared' returning ${ALARM_COLUMNS}`,
    );
    if (row) {
      this.logger.info({ alarmId: id, by }, 'alarm cleared');
      return toAlarm(row);
    }
    const current = await this.get(id);
    throw new ConflictError(`alarm ${id} is already cleared (by ${current.clearedBy ?? 'unknown'} at ${current.clearedAt}); nothing to do — if the problem comes back, the rule opens a new alarm`);
  }

  /** Clears the open alarm of (type, source) if there is one (rules: the condition went away); null when none was open. */
  async clearOpen(type: AlarmType, source: string, by: string): Promise<Alarm | null> {
    const now = this.clock().toISOString();
    const [row] = await execRows(
      this.db,
      sql`update alarms a set status = 'cleared', cleared_at = ${now}::timestamptz, cleared_by = ${by}, updated_at = ${now}::timestamptz
          where a.type = ${type} and a.source = ${source} and a.status <> 'cleared' returning ${ALARM_COLUMNS}`,
    );
    if (!row) return null;
    const alarm = toAlarm(row);
    this.logger.info({ alarmId: alarm.id, type, source, by }, 'alarm cleared');
    return alarm;
  }

  /** The open (not cleared) alarm of (type, source), or null. */
  async findOpen(type: AlarmType, source: string): Promise<Alarm | null> {
    const [row] = await execRows(this.db, sql`select ${ALARM_COLUMNS} from alarms a where a.type = ${type} and a.source = ${source} and a.status <> 'cleared'`);
    return row ? toAlarm(row) : null;
  }

  /** Open alarms of some types, optionally of one device (the rules' view of what to clear). */
  async listOpen(types: readonly AlarmType[], deviceId?: string): Promise<Alarm[]> {
    // Prepared (a few shapes: the rules' fixed type lists, with or without a device): run after every status update.
    const rows = await execPrepared(
      this.db,
      'rw_open_alarms',
      sql`select ${ALARM_COLUMNS} from alarms a
          where a.status <> 'cleared' and a.type in (${sql.join(types.map((t) => sql`${t}`), sql`, `)})
            ${deviceId === undefined ? sql`` : sql`and a.device_id = ${deviceId}`}
          order by a.id`,
    );
    return rows.map(toAlarm);
  }

  async get(id: number): Promise<Alarm> {
    const [row] = Number.isSafeInteger(id) && id > 0 ? await execRows(this.db, sql`select ${ALARM_COLUMNS} from alarms a where a.id = ${id}`) : [];
    if (!row) throw new NotFoundError(`alarm ${id} not found`);
    return toAlarm(row);
  }

  /**
   * Newest first, `offset` paging. `latest: true` keeps only the newest alarm of each (type, source)
   * — the current state of every source — and then applies the other filters to it.
   */
  async list(query: AlarmListQuery = {}): Promise<AlarmPage> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const offset = query.offset ?? 0;
    if (!Number.isInteger(limit) || limit < 1 || limit > ALARM_LIST_MAX_LIMIT) {
      throw new InvalidRequestError(`limit must be an integer from 1 to ${ALARM_LIST_MAX_LIMIT}, got ${limit}`, 'page with offset for more');
    }
    if (!Number.isInteger(offset) || offset < 0) throw new InvalidRequestError(`offset must be a non-negative integer, got ${offset}`);
    const filters: SQL[] = [];
    const inFilter = (column: string, value: string | readonly string[] | undefined, allowed: readonly string[]) => {
      if (value === undefined) return;
      const values = typeof value === 'string' ? [value] : [...value];
      const bad = values.filter((v) => !allowed.includes(v));
      if (bad.length) throw new InvalidRequestError(`${column}: unknown value ${bad.map((b) => JSON.stringify(b)).join(', ')}`, `use one of ${allowed.join(', ')}`);
      if (values.length) filters.push(sql`a.${sql.identifier(column)} in (${sql.join(values.map((v) => sql`${v}`), sql`, `)})`);
    };
    inFilter('status', query.status, ALARM_STATUSES);
    inFilter('severity', query.severity, ALARM_SEVERITIES);
    inFilter('type', query.type, ALARM_TYPES);
    if (query.deviceId !== undefined) filters.push(sql`a.device_id = ${query.deviceId}`);

    // latest: the flag the trigger keeps on the newest alarm of each (type, source); the page walks the
    // partial index alarms_latest_created_idx, never the history. NULLS LAST as in the indexes (drizzle-kit
    // writes DESC NULLS LAST; the columns are NOT NULL, so the order is the same, but Postgres only uses
    // an index whose NULLS placement matches).
    if (query.latest) filters.unshift(sql`a.latest`);
    const where = filters.length ? sql`where ${sql.join(filters, sql` and `)}` : sql``;
    const [rows, [total]] = await Promise.all([
      execRows(this.db, sql`select ${ALARM_COLUMNS} from alarms a ${where} order by a.created_at desc nulls last, a.id desc nulls last limit ${limit} offset ${offset}`),
      execRows<{ n: number }>(this.db, sql`select count(*)::int as n from alarms a ${where}`),
    ]);
    return { items: rows.map(toAlarm), total: Number(total?.n ?? 0), limit, offset };
  }
}

function checkId(id: number): number {
  if (!Number.isSafeInteger(id) || id <= 0) throw new NotFoundError(`alarm ${id} not found`);
  return id;
}
