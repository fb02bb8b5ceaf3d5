import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AlarmsConfigSchema, type AlarmsConfig } from '../config/schema.js';
import type { HubDatabase } from '../db/client.js';
import { AggregatesService } from './aggregates.js';
import { AlarmRules } from './alarm-rules.js';
import { AlarmService } from './alarms.js';
import { DetectionQueryService } from './detections.js';
import { DeviceViewService } from './device-views.js';
import { DeviceRegistryService } from './devices.js';
import { DEFAULT_H3_RESOLUTION } from './ingest-sql.js';
import { IngestService } from './ingest.js';
import { StatusService } from './status.js';
import { TokenService } from './tokens.js';

export interface Services {
  ingest: IngestService;
  devices: DeviceRegistryService;
  /** Devices with their latest status, for the REST API. */
  deviceViews: DeviceViewService;
  status: StatusService;
  /** REST API tokens (docs/API-ACCESS.md). */
  tokens: TokenService;
  detections: DetectionQueryService;
  alarms: AlarmService;
  /** The alarm rules; the composition root runs `evaluateAll` on a timer and awaits `idle` before closing the database. */
  alarmRules: AlarmRules;
  aggregates: AggregatesService;
}

/** The parts of the hub config the services read (the defaults when absent). */
export interface ServicesConfig {
  aggregates?: { h3Resolution: number };
  alarms?: AlarmsConfig;
  ingest?: { statements: number; maxBatchesPerStatement: number; maxEventsPerStatement: number };
}

export function createServices(deps: {
  database: HubDatabase;
  logger: Logger;
  registry?: Registry;
  clock?: () => Date;
  config?: ServicesConfig;
  /** See AlarmRulesDeps.hotspotDelayMs. */
  hotspotDelayMs?: number;
}): Services {
  const { db } = deps.database;
  const common = { db, logger: deps.logger, ...(deps.clock ? { clock: deps.clock } : {}) };
  const h3Resolution = deps.config?.aggregates?.h3Resolution ?? DEFAULT_H3_RESOLUTION;
  const alarms = new AlarmService(common);
  const alarmRules = new AlarmRules({
    ...common,
    alarms,
    config: deps.config?.alarms ?? AlarmsConfigSchema.parse({}),
    h3Resolution,
    ...(deps.hotspotDelayMs !== undefined ? { hotspotDelayMs: deps.hotspotDelayMs } : {}),
  });
  return {
    ingest: new IngestService({
      ...common,
      h3Resolution,
      rules: alarmRules,
      ...(deps.registry ? { registry: deps.registry } : {}),
      ...(deps.config?.ingest
        ? { groupCommit: { statements: deps.config.ingest.statements, maxBatches: deps.config.ingest.maxBatchesPerStatement, maxEvents: deps.config.ingest.maxEventsPerStatement } }
        : {}),
    }),
    devices: new DeviceRegistryService(common),
    deviceViews: new DeviceViewService(common),
    status: new StatusService({ ...common, afterRecord: (recorded) => alarmRules.afterStatus(recorded) }),
    detections: new DetectionQueryService(common),
    alarms,
    alarmRules,
    aggregates: new AggregatesService({ ...common, h3Resolution }),
    tokens: new TokenService(common),
  };
}

export { AggregatesService, type CellQuery, type CellRow, type HourlyQuery, type HourlyRow, type RebuildRange, type RebuildReport } from './aggregates.js';
export { AlarmRules, type IngestRules } from './alarm-rules.js';
export { ALARM_LIST_MAX_LIMIT, AlarmService } from './alarms.js';
export type * from './alarm-types.js';
export { ALARM_SEVERITIES, ALARM_STATUSES, ALARM_TYPES } from './alarm-types.js';
export { DetectionQueryService, InvalidCursorError } from './detections.js';
export { DeviceRegistryService } from './devices.js';
export { DEVICE_STATES, DeviceViewService, type DeviceState, type DeviceView, type DeviceViewPage, type DeviceViewQuery } from './device-views.js';
export { ConflictError, InvalidRequestError, NotFoundError, ServiceError } from './errors.js';
export { IngestService } from './ingest.js';
export { StatusService } from './status.js';
export { scopeAllows, TOKEN_SCOPES, TokenService, type CreatedToken, type TokenAdmin, type TokenIdentity, type TokenScope, type TokenSummary, type TokenVerifier } from './tokens.js';
export type * from './ports.js';
