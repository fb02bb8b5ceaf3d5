import { describe, expect, it } from 'vitest';
import { AckSchema, BatchEnvelopeSchema, EventBodySchema, EventSchema, StatusSchema } from './protocol.js';
import { newEventId, uuidV7Time } from './ids.js';
import { deviceTopic, parseDeviceTopic, allDevicesTopic } from './topics.js';
import { formatZodIssues } from './errors.js';

const body = {
  ts: '2026-11-22T08:00:58.120Z',
  clock: 'gps',
  lat: 52.37021,
  lon: 4.89517,
  accuracyM: 2.5,
  speedKmh: 41.8,
  headingDeg: 182.5,
  class: 'pothole',
  confidence: 0.87,
  hits: 5,
  bbox: [412, 388, 530, 455],
  frame: { w: 1280, h: 720 },
  model: 'road-damage-tiny@1',
};

describe('protocol v1', () => {
  it('accepts the design example event', () => {
    const event = EventSchema.parse({ ...body, eventId: newEventId(), seq: 1234 });
    expect(event.hits).toBe(5);
  });

  it('defaults hits to 1 and keeps optional fields optional', () => {
    const { accuracyM, speedKmh, headingDeg, bbox, frame, model, hits, ...minimal } = body;
    expect(EventBodySchema.parse(minimal).hits).toBe(1);
  });

  it.each([
    [{ lat: 95 }, 'lat: lat out of range'],
    [{ lon: -181 }, 'lon: lon out of range'],
    [{ confidence: 1.2 }, 'confidence'],
    [{ ts: 'yesterday' }, 'ts: must be an ISO-8601 timestamp'],
    [{ clock: 'sundial' }, 'clock'],
    [{ headingDeg: 360 }, 'headingDeg'],
    [{ extra: 1 }, 'Unrecognized key'],
    [{ frame: { w: 2 ** 31, h: 720 } }, 'frame.w'],
  ])('rejects %j naming the field', (patch, expected) => {
    const result = EventBodySchema.safeParse({ ...body, ...patch });
    expect(result.success).toBe(false);
    if (!result.success) expect(formatZodIssues(result.error).join('\n')).toContain(expected);
  });

  it('validates the envelope apart from its events', () => {
    const envelope = { v: 1, deviceId: 'veh-0042', batchId: newEventId(), sentAt: new Date().toISOString(), events: [{ junk: true }] };
    expect(BatchEnvelopeSchema.safeParse(envelope).success).toBe(true);
    expect(BatchEnvelopeSchema.safeParse({ ...envelope, deviceId: 'veh/0042' }).success).toBe(false);
    expect(BatchEnvelopeSchema.safeParse({ ...envelope, v: 2 }).success).toBe(false);
    expect(BatchEnvelopeSchema.safeParse({ ...envelope, events: [] }).success).toBe(false);
  });

  it('parses acks and the offline last will', () => {
    const ack = { v: 1, batchId: newEventId(), stored: [newEventId()], duplicates: 0, rejected: [{ seq: 3, eventId: null, reason: 'lat out of range' }] };
    expect(AckSchema.parse(ack)).toEqual(ack);
    expect(StatusSchema.parse({ v: 1, state: 'offline' }).state).toBe('offline');
  });

  it('takes an optional detector section in the status (p95 and frames a second, null until measured)', () => {
    const online = { v: 1, state: 'online', ts: '2026-11-22T08:00:58.120Z', queueDepth: 0 };
    expect(StatusSchema.parse(online).detector).toBeUndefined();
    expect(StatusSchema.parse({ ...online, detector: { p95Ms: 41.2, fps: 4.8 } }).detector).toEqual({ p95Ms: 41.2, fps: 4.8 });
    expect(StatusSchema.parse({ ...online, detector: { p95Ms: null, fps: null } }).detector).toEqual({ p95Ms: null, fps: null });
    for (const bad of [{ p95Ms: -1, fps: 1 }, { p95Ms: 1 }, { p95Ms: 1, fps: '5' }, { p95Ms: 1, fps: 1, p50Ms: 1 }, null]) {
      expect(StatusSchema.safeParse({ ...online, detector: bad }).success).toBe(false);
    }
  });
});

describe('ids', () => {
  it('makes time-ordered UUIDv7 ids', () => {
    const before = Date.now();
    const ids = Array.from({ length: 1000 }, newEventId);
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual(ids);
    expect(ids[0]![14]).toBe('7');
    expect(uuidV7Time(ids[0]!)).toBeGreaterThanOrEqual(before);
  });
});

describe('topics', () => {
  it('round-trips device topics', () => {
    expect(parseDeviceTopic(deviceTopic('veh-1', 'events'))).toEqual({ deviceId: 'veh-1', channel: 'events' });
    expect(allDevicesTopic('status')).toBe('roadwatch/v1/devices/+/status');
  });

  it.each(['roadwatch/v1/devices/+/events', 'roadwatch/v1/devices/veh-1/events/x', 'roadwatch/v2/devices/veh-1/events', 'roadwatch/v1/devices/veh-1/secrets', 'roadwatch/v1/devices/#'])(
    'rejects %s',
    (topic) => expect(parseDeviceTopic(topic)).toBeNull(),
  );
});
