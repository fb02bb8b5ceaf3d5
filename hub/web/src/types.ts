// The REST API's answers the dashboard reads (docs/API.md; the hub's zod schemas are the truth).

export type Scope = 'read' | 'ack' | 'admin';

/** GET /api/v1/me */
export interface Me {
  id: string;
  name: string;
  scope: Scope;
  may: { read: boolean; ack: boolean; admin: boolean };
}

export interface Detection {
  id: string;
  eventId: string;
  deviceId: string;
  seq: number;
  ts: string;
  clock: string;
  accuracyM?: number | null;
  speedKmh?: number | null;
  headingDeg?: number | null;
  class: string;
  confidence: number;
  hits: number;
  model?: string | null;
  receivedAt: string;
}

/** GET /api/v1/detections?format=geojson */
export interface DetectionCollection {
  type: 'FeatureCollection';
  features: Array<{ type: 'Feature'; id: string; geometry: { type: 'Point'; coordinates: [number, number] }; properties: Detection }>;
  nextCursor: string | null;
}

/** A detection with its position, as the dashboard keeps it. */
export type PlacedDetection = Detection & { lat: number; lon: number };

/** GET /api/v1/aggregates/cells?format=geojson */
export interface CellCollection {
  type: 'FeatureCollection';
  features: Array<{ type: 'Feature'; id: string; geometry: { type: 'Polygon'; coordinates: Array<Array<[number, number]>> }; properties: { cell: string; resolution: number; events: number; devices: number } }>;
  nextOffset: number | null;
}

export interface HourlyRow {
  hour: string;
  deviceId: string;
  class: string;
  events: number;
  avgConfidence: number;
  maxConfidence: number;
}

/** GET /api/v1/aggregates/hourly */
export interface HourlyPage {
  from: string;
  to: string;
  items: HourlyRow[];
  nextOffset: number | null;
}

export type AlarmStatus = 'active_unack' | 'active_ack' | 'cleared';
export type AlarmSeverity = 'critical' | 'major' | 'minor' | 'warning';

export interface Alarm {
  id: number;
  type: string;
  source: string;
  deviceId: string | null;
  severity: AlarmSeverity;
  status: AlarmStatus;
  message: string;
  details: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  lastSeenAt: string;
  count: number;
  ackedAt: string | null;
  ackedBy: string | null;
  clearedAt: string | null;
  clearedBy: string | null;
}

/** GET /api/v1/alarms */
export interface AlarmPage {
  items: Alarm[];
  total: number;
  limit: number;
  offset: number;
}

export interface Device {
  deviceId: string;
  createdAt: string;
  state: 'online' | 'offline' | 'unknown';
  online: boolean;
  lastSeenAt: string | null;
  lastEventAt: string | null;
  statusAt: string | null;
  queue: { depth: number | null; bytes: number | null; oldestUnsyncedAgeS: number | null; lastAckAt: string | null; evictedTotal: number | null } | null;
  versions: { agent: string | null; model: string | null };
  sensors: Record<string, string>;
  faults: string[];
  /** Inference p95 (ms) and frames detected a second from the latest status; null = not reported. Absent from hubs before it. */
  detector?: { p95Ms: number | null; fps: number | null } | null;
}

/** GET /api/v1/devices */
export interface DevicePage {
  items: Device[];
  total: number;
  limit: number;
  offset: number;
}
