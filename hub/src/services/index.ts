import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { HubDatabase } from '../db/client.js';
import { DetectionQueryService } from './detections.js';
import { DeviceRegistryService } from './devices.js';
import { IngestService } from './ingest.js';
import { StatusService } from './status.js';

export interface Services {
  ingest: IngestService;
  devices: DeviceRegistryService;
  status: StatusService;
  detections: DetectionQueryService;
}

export function createServices(deps: { database: HubDatabase; logger: Logger; registry?: Registry; clock?: () => Date }): Services {
  const { db } = deps.database;
  const common = { db, logger: deps.logger, ...(deps.clock ? { clock: deps.clock } : {}) };
  return {
    ingest: new IngestService({ ...common, ...(deps.registry ? { registry: deps.registry } : {}) }),
    devices: new DeviceRegistryService(common),
    status: new StatusService(common),
    detections: new DetectionQueryService(common),
  };
}

export { DetectionQueryService, InvalidCursorError } from './detections.js';
export { DeviceRegistryService } from './devices.js';
export { IngestService } from './ingest.js';
export { StatusService } from './status.js';
export type * from './ports.js';
