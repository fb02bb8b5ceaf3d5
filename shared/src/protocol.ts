import { z } from 'zod';

/** Protocol version carried in every payload. */
export const PROTOCOL_VERSION = 1 as const;

/** Device ids appear inside MQTT topics, so no `/`, `+`, `#` or spaces. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const DeviceIdSchema = z
  .string()
  .regex(DEVICE_ID_PATTERN, 'device id must be 1–64 characters of A–Z a–z 0–9 . _ - and start with a letter or digit');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const UuidSchema = z.string().regex(UUID, 'must be a UUID');

/** Where the event's timestamp came from: GPS time, a plausible system clock, or a clock not yet trusted. */
export const ClockSourceSchema = z.enum(['gps', 'system', 'unsynced']);
export type ClockSource = z.infer<typeof ClockSourceSchema>;

const IsoTimestamp = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 timestamp such as 2026-11-22T08:00:58.120Z' });

/** A frame side in pixels above any camera's (and within the hub's integer columns). */
export const MAX_FRAME_SIDE = 100_000;

/** Fields an event carries that are not assigned by the agent's outbox. */
export const EventBodySchema = z.strictObject({
  ts: IsoTimestamp,
  clock: ClockSourceSchema,
  lat: z.number().min(-90, 'lat out of range (−90…90)').max(90, 'lat out of range (−90…90)'),
  lon: z.number().min(-180, 'lon out of range (−180…180)').max(180, 'lon out of range (−180…180)'),
  accuracyM: z.number().nonnegative().max(100_000).optional(),
  speedKmh: z.number().nonnegative().max(1_000).optional(),
  headingDeg: z.number().min(0).lt(360).optional(),
  class: z.string().min(1).max(64),
  confidence: z.number().min(0).max(1),
  hits: z.number().int().min(1).max(1_000_000).default(1),
  bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]).optional(),
  frame: z.strictObject({ w: z.number().int().positive().max(MAX_FRAME_SIDE), h: z.number().int().positive().max(MAX_FRAME_SIDE) }).optional(),
  model: z.string().min(1).max(128).optional(),
});
export type EventBody = z.infer<typeof EventBodySchema>;
export type EventBodyInput = z.input<typeof EventBodySchema>;

/** One geotagged road-damage event, as it crosses the wire. */
export const EventSchema = EventBodySchema.extend({
  eventId: UuidSchema,
  seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
});
export type RoadEvent = z.infer<typeof EventSchema>;

/** The batch envelope is validated on its own so one bad event never rejects its neighbours. */
export const BatchEnvelopeSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  deviceId: DeviceIdSchema,
  batchId: UuidSchema,
  sentAt: IsoTimestamp,
  events: z.array(z.unknown()).min(1).max(10_000),
});
export type BatchEnvelope = z.infer<typeof BatchEnvelopeSchema>;

export const BatchSchema = BatchEnvelopeSchema.extend({ events: z.array(EventSchema).min(1).max(10_000) });
export type Batch = z.infer<typeof BatchSchema>;

export const RejectedEventSchema = z.strictObject({
  seq: z.number().int().nullable(),
  eventId: z.string().nullable(),
  reason: z.string(),
});
export type RejectedEvent = z.infer<typeof RejectedEventSchema>;

/**
 * The hub's answer to one batch, sent only after its transaction committed.
 * Every event of the batch is settled by an ack: stored, a duplicate, or rejected (quarantined).
 * `error` is set when the envelope itself was unusable; the batch is quarantined whole.
 */
export const AckSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  batchId: UuidSchema,
  stored: z.array(z.string()),
  duplicates: z.number().int().nonnegative(),
  rejected: z.array(RejectedEventSchema),
  error: z.string().optional(),
});
export type Ack = z.infer<typeof AckSchema>;

export const DeviceStateSchema = z.enum(['online', 'offline']);

export const SensorStateSchema = z.enum(['ok', 'degraded', 'fault', 'absent']);
export type SensorState = z.infer<typeof SensorStateSchema>;

/**
 * The detector's pace as the agent's control endpoint measures it (`roadwatch status`): p95 of the
 * last 256 detect steps, ms, and frames detected a second over the last 10 s. Null until measured.
 */
export const DetectorStatusSchema = z.strictObject({
  p95Ms: z.number().nonnegative().nullable(),
  fps: z.number().nonnegative().nullable(),
});
export type DetectorStatus = z.infer<typeof DetectorStatusSchema>;

/** Health the agent publishes (retained); its last will is the minimal `{"v":1,"state":"offline"}`. */
export const StatusSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  state: DeviceStateSchema,
  ts: IsoTimestamp.optional(),
  agentVersion: z.string().max(64).optional(),
  queueDepth: z.number().int().nonnegative().optional(),
  queueBytes: z.number().int().nonnegative().optional(),
  oldestUnsyncedAgeS: z.number().nonnegative().nullable().optional(),
  lastAckAt: IsoTimestamp.nullable().optional(),
  evictedTotal: z.number().int().nonnegative().optional(),
  sensors: z.record(z.string(), SensorStateSchema).optional(),
  /** One line per sensor that is not ok: what is wrong and what to do (`camera: /dev/video0: No such file or directory — …`). */
  faults: z.array(z.string().max(500)).max(16).optional(),
  /** Present while the camera pipeline runs; optional: agents without a camera, and older agents, leave it out. */
  detector: DetectorStatusSchema.optional(),
});
export type Status = z.infer<typeof StatusSchema>;

export const OFFLINE_STATUS: Status = { v: PROTOCOL_VERSION, state: 'offline' };
