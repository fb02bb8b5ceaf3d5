import { StatusSchema, type Status } from '@roadwatch/shared';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { execPrepared } from '../db/rows.js';
import { DEVICE_ALARM_TYPES } from './alarm-types.js';
import { hasUnstorableText } from './ingest-validate.js';
import type { StatusRecorder } from './ports.js';

export interface StatusServiceDeps {
  db: Db;
  logger: Logger;
  clock?: () => Date;
  /** Runs after a status is stored (the device alarm rules); its failure is logged, never the caller's. */
  afterRecord?: (recorded: RecordedStatus) => Promise<unknown>;
}

/** A status as stored, with what the device rules need to tell whether it can change an alarm. */
export interface RecordedStatus {
  deviceId: string;
  status: Status;
  /** When the hub stored it (device_status.updated_at). */
  at: Date;
  /** device_status.sensor_fault_since after this status: sensor → ISO time it has been in fault since. */
  sensorFaultSince: Record<string, string>;
  /** Whether a device_offline, outbox_backlog or sensor_fault alarm of this device was open as the status was stored. */
  alarmOpen: boolean;
}

const decoder = new TextDecoder('utf-8');

export class StatusService implements StatusRecorder {
  private readonly db: Db;
  private readonly logger: Logger;
  private readonly clock: () => Date;
  private readonly afterRecord: ((recorded: RecordedStatus) => Promise<unknown>) | undefined;

  constructor(deps: StatusServiceDeps) {
    this.db = deps.db;
    this.logger = deps.logger.child({ svc: 'status' });
    this.clock = deps.clock ?? (() => new Date());
    this.afterRecord = deps.afterRecord;
  }

  async record(deviceId: string, payload: Uint8Array | string): Promise<boolean> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(typeof payload === 'string' ? payload : decoder.decode(payload));
    } catch {
      return false;
    }
    const result = StatusSchema.safeParse(parsed);
    if (!result.success || hasUnstorableText(result.data)) return false;
    const status = result.data;
    const at = this.clock();
    const now = at.toISOString();
    // sensor_fault_since: for each sensor now in `fault`, since when without a break — kept from the
    // previous row when it was already in fault, else now. A status without sensors (the last will) empties it.
    const faulty = Object.fromEntries(Object.entries(status.sensors ?? {}).filter(([, state]) => state === 'fault').map(([sensor]) => [sensor, now]));
    // Prepared: every vehicle sends one every 30 s, the hub's most frequent statement after ingest. It
    // also says whether a device alarm is open, so that the rules can skip a healthy vehicle's status.
    const [row] = await execPrepared<{ sensor_fault_since: unknown; alarm_open: boolean }>(this.db, 'rw_status', sql`
      with up as (
        insert into device_status as s (device_id, state, payload, updated_at, sensor_fault_since)
        values (${deviceId}, ${status.state}, ${JSON.stringify(status)}::jsonb, ${now}::timestamptz, ${JSON.stringify(faulty)}::jsonb)
        on conflict (device_id) do update set
          state = excluded.state, payload = excluded.payload, updated_at = excluded.updated_at,
          sensor_fault_since = (
            select coalesce(jsonb_object_agg(f.key, coalesce(s.sensor_fault_since -> f.key, f.value)), '{}'::jsonb)
            from jsonb_each(excluded.sensor_fault_since) f)
        returning s.sensor_fault_since
      )
      select up.sensor_fault_since,
             exists (select 1 from alarms a
                     where a.device_id = ${deviceId} and a.status <> 'cleared'
                       and a.type in (${sql.join(DEVICE_ALARM_TYPES.map((t) => sql`${t}`), sql`, `)})) as alarm_open
      from up`);
    if (this.afterRecord) {
      const since = row?.sensor_fault_since;
      const recorded: RecordedStatus = {
        deviceId,
        status,
        at,
        sensorFaultSince: (typeof since === 'string' ? JSON.parse(since) : (since ?? {})) as Record<string, string>,
        alarmOpen: row?.alarm_open !== false,
      };
      try {
        await this.afterRecord(recorded);
      } catch (err) {
        this.logger.warn({ err, deviceId }, 'device alarm rules failed after a status update; the timer will catch up');
      }
    }
    return true;
  }
}
