import { StatusSchema } from '@roadwatch/shared';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { execPrepared } from '../db/rows.js';
import { hasUnstorableText } from './ingest-validate.js';
import type { StatusRecorder } from './ports.js';

export interface StatusServiceDeps {
  db: Db;
  logger: Logger;
  clock?: () => Date;
  /** Runs after a status is stored (the device alarm rules); its failure is logged, never the caller's. */
  afterRecord?: (deviceId: string) => Promise<void>;
}

const decoder = new TextDecoder('utf-8');

export class StatusService implements StatusRecorder {
  private readonly db: Db;
  private readonly logger: Logger;
  private readonly clock: () => Date;
  private readonly afterRecord: ((deviceId: string) => Promise<void>) | undefined;

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
    const now = this.clock().toISOString();
    // sensor_fault_since: for each sensor now in `fault`, since when without a break — kept from the
    // previous row when it was already in fault, else now. A status without sensors (the last will) empties it.
    const faulty = Object.fromEntries(Object.entries(status.sensors ?? {}).filter(([, state]) => state === 'fault').map(([sensor]) => [sensor, now]));
    // Prepared: every vehicle sends one every 30 s, the hub's most frequent statement after ingest.
    await execPrepared(this.db, 'rw_status', sql`
      insert into device_status as s (device_id, state, payload, updated_at, sensor_fault_since)
      values (${deviceId}, ${status.state}, ${JSON.stringify(status)}::jsonb, ${now}::timestamptz, ${JSON.stringify(faulty)}::jsonb)
      on conflict (device_id) do update set
        state = excluded.state, payload = excluded.payload, updated_at = excluded.updated_at,
        sensor_fault_since = (
          select coalesce(jsonb_object_agg(f.key, coalesce(s.sensor_fault_since -> f.key, f.value)), '{}'::jsonb)
          from jsonb_each(excluded.sensor_fault_since) f)`);
    if (this.afterRecord) {
      try {
        await this.afterRecord(deviceId);
      } catch (err) {
        this.logger.warn({ err, deviceId }, 'device alarm rules failed after a status update; the timer will catch up');
      }
    }
    return true;
  }
}
