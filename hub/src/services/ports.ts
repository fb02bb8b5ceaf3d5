import type { Ack } from '@roadwatch/shared';

export type IngestChannel = 'mqtt' | 'http';

export interface IngestOutcome {
  /** null when the payload had no usable batchId (not JSON, or no id): nothing can be acked. */
  ack: Ack | null;
  stored: number;
  duplicates: number;
  rejected: number;
  /** Set when the whole payload was unusable (quarantined whole): what was wrong with it. */
  invalid?: { kind: 'json' | 'envelope' | 'device_mismatch'; reason: string };
}

/** Turns one received batch payload into stored rows, quarantine rows and an ack, all in one transaction. */
export interface BatchIngest {
  ingest(topicDeviceId: string, payload: Uint8Array | string, channel: IngestChannel): Promise<IngestOutcome>;
}

export interface DeviceCredentials {
  deviceId: string;
  secret: string;
}

export interface DeviceSummary {
  deviceId: string;
  createdAt: string;
  lastSeenAt: string | null;
  state: 'online' | 'offline' | 'unknown';
}

export interface DeviceRegistry {
  /** Creates the device, or rotates its secret when `rotate` is set; the secret is returned once and stored hashed. */
  add(deviceId: string, options?: { rotate?: boolean }): Promise<DeviceCredentials>;
  /** Constant-time check of a device's secret against its slow-KDF hash. */
  verify(deviceId: string, secret: string): Promise<boolean>;
  list(): Promise<DeviceSummary[]>;
}

export interface StatusRecorder {
  /** Stores a device's status payload (validated); returns false when it was invalid. */
  record(deviceId: string, payload: Uint8Array | string): Promise<boolean>;
}

export interface DetectionPage {
  items: DetectionItem[];
  nextCursor: string | null;
}

export interface DetectionItem {
  id: string;
  eventId: string;
  deviceId: string;
  seq: number;
  ts: string;
  clock: string;
  lat: number;
  lon: number;
  accuracyM: number | null;
  speedKmh: number | null;
  headingDeg: number | null;
  class: string;
  confidence: number;
  hits: number;
  bbox: [number, number, number, number] | null;
  frame: { w: number; h: number } | null;
  model: string | null;
  receivedAt: string;
}

/** Filters of a detection list; they combine with AND. */
export interface DetectionFilter {
  /** Event time, inclusive. */
  from?: Date | undefined;
  /** Event time, exclusive. */
  to?: Date | undefined;
  /** Any of these classes. */
  classes?: readonly string[] | undefined;
  deviceId?: string | undefined;
  /** Position inside the box (WGS84 degrees, edges included; min ≤ max). */
  bbox?: { minLon: number; minLat: number; maxLon: number; maxLat: number } | undefined;
  /** Confidence at or above. */
  minConfidence?: number | undefined;
}

export interface DetectionQuery {
  list(params: { limit: number; cursor?: string | undefined } & DetectionFilter): Promise<DetectionPage>;
}
