import { sql, type SQL } from 'drizzle-orm';
import type { Alarm, AlarmSeverity, AlarmStatus, AlarmType } from './alarm-types.js';

/** The columns every alarm query returns, in the shape toAlarm reads. */
export const ALARM_COLUMNS = sql.raw(
  'a.id, a.type, a.source, a.device_id, a.severity, a.status, a.message, a.details, a.created_at, a.updated_at, a.last_seen_at, a.count, a.acked_at, a.acked_by, a.cleared_at, a.cleared_by',
);

/**
 * What happens when a rule fires while an alarm of the same (type, source) is open: it is the same
 * alarm. The partial unique index alarms_open_type_source_key is the arbiter, so two concurrent raises
 * (two ingests, two hub replicas) meet on one row: one inserts, the other updates.
 *
 * The update only happens when something changed (severity, message or details): raising the same
 * alarm again with the same content changes nothing — a rule evaluated twice is a no-op. When it
 * changed it is a re-fire: new content, last_seen_at, updated_at, count + excluded.count. The status
 * (acknowledged or not) and device_id (who opened it; details name the last reporter) are kept: no
 * indexed column changes, so with the table's free space (fillfactor 70) a re-fire is a HOT update
 * that writes none of the alarm indexes — the busiest write of ingest is re-sightings of known potholes.
 */
export const ON_OPEN_CONFLICT = sql.raw(`on conflict (type, source) where status <> 'cleared' do update set
      severity = excluded.severity, message = excluded.message, details = excluded.details,
      updated_at = excluded.updated_at, last_seen_at = excluded.last_seen_at, count = a.count + excluded.count
    where (a.severity, a.message, a.details)
      is distinct from (excluded.severity, excluded.message, excluded.details)`);

export interface RaiseRow {
  type: AlarmType;
  source: string;
  deviceId: string | null;
  severity: AlarmSeverity;
  message: string;
  details: Record<string, unknown>;
  now: string;
}

/** Opens or re-fires one alarm; returns the row with `inserted` when something was written, no row when nothing changed. */
export function raiseStatement(r: RaiseRow): SQL {
  return sql`insert into alarms as a (type, source, device_id, severity, status, message, details, created_at, updated_at, last_seen_at, count)
    values (${r.type}, ${r.source}, ${r.deviceId}, ${r.severity}, 'active_unack', ${r.message}, ${JSON.stringify(r.details)}::jsonb,
            ${r.now}::timestamptz, ${r.now}::timestamptz, ${r.now}::timestamptz, 1)
    ${ON_OPEN_CONFLICT}
    returning ${ALARM_COLUMNS}, (a.xmax = 0) as inserted`;
}

/**
 * Opens or re-fires many alarms in one statement (the rules' hotspot checks touch hundreds of cells at a
 * time). Rows must be unique by (type, source): ON CONFLICT cannot update one row twice in a statement.
 * Returns the rows written, as raiseStatement does.
 */
export function raiseManyStatement(rows: RaiseRow[]): SQL {
  const now = rows[0]?.now ?? new Date().toISOString();
  return sql`insert into alarms as a (type, source, device_id, severity, status, message, details, created_at, updated_at, last_seen_at, count)
    select r.type, r.source, r.device_id, r.severity, 'active_unack', r.message, r.details,
           ${now}::timestamptz, ${now}::timestamptz, ${now}::timestamptz, 1
    from json_to_recordset(${JSON.stringify(rows.map((r) => ({ type: r.type, source: r.source, device_id: r.deviceId, severity: r.severity, message: r.message, details: r.details })))}::json)
      as r(type text, source text, device_id text, severity text, message text, details jsonb)
    order by r.type, r.source
    ${ON_OPEN_CONFLICT}
    returning a.id, a.type, a.source, a.severity, (a.xmax = 0) as inserted`;
}

/**
 * Severe-damage candidates of one batch in one source (H3 cell), computed by the rules: the events
 * that qualify, and the alarm content of the newest of them.
 */
export interface SevereAlarmRow {
  source: string;
  event_ids: string[];
  severity: AlarmSeverity;
  message: string;
  details: Record<string, unknown>;
}

/**
 * The severe-damage rule inside the ingest statement (a data-modifying CTE over `ins`, the rows the
 * insert really stored): a duplicate never fires, and the alarm commits with the events — no window
 * where a crash loses it. Each source fires once per batch with count + the number of its events
 * really inserted (none inserted: no fire).
 */
export function severeAlarmsCte(rows: SevereAlarmRow[], deviceId: string, now: string): SQL {
  return sql`insert into alarms as a (type, source, device_id, severity, status, message, details, created_at, updated_at, last_seen_at, count)
      select 'severe_damage', s.source, ${deviceId}, s.severity, 'active_unack', s.message, s.details,
             ${now}::timestamptz, ${now}::timestamptz, ${now}::timestamptz, count(*)
      from json_to_recordset(${JSON.stringify(rows)}::json) as s(source text, severity text, message text, details jsonb, event_ids jsonb)
      cross join lateral jsonb_array_elements_text(s.event_ids) as e(event_id)
      join ins on ins.event_id = e.event_id::uuid
      group by s.source, s.severity, s.message, s.details
      order by s.source
      ${ON_OPEN_CONFLICT}`;
}

/** Row → Alarm; pg and PGlite differ in how they return bigint and timestamptz. */
export function toAlarm(row: Record<string, unknown>): Alarm {
  return {
    id: Number(row.id),
    type: row.type as AlarmType,
    source: row.source as string,
    deviceId: (row.device_id as string | null) ?? null,
    severity: row.severity as AlarmSeverity,
    status: row.status as AlarmStatus,
    message: row.message as string,
    details: (typeof row.details === 'string' ? JSON.parse(row.details) : row.details) as Record<string, unknown>,
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
    lastSeenAt: iso(row.last_seen_at)!,
    count: Number(row.count),
    ackedAt: iso(row.acked_at),
    ackedBy: (row.acked_by as string | null) ?? null,
    clearedAt: iso(row.cleared_at),
    clearedBy: (row.cleared_by as string | null) ?? null,
  };
}

function iso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return (value instanceof Date ? value : new Date(value as string)).toISOString();
}
