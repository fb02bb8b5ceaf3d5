import { newBatchId, newEventId, type RoadEvent } from '@roadwatch/shared';

let seqCounter = 0;

export function makeEvent(overrides: Partial<RoadEvent> & Record<string, unknown> = {}): RoadEvent {
  seqCounter += 1;
  return {
    eventId: newEventId(),
    seq: seqCounter,
    ts: new Date(Date.UTC(2026, 10, 22, 8, 0, 0) + seqCounter * 1000).toISOString(),
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
    ...overrides,
  } as RoadEvent;
}

export function makeEvents(n: number, overrides: Partial<RoadEvent> = {}): RoadEvent[] {
  return Array.from({ length: n }, () => makeEvent(overrides));
}

export function makeBatch(deviceId: string, events: unknown[], batchId = newBatchId()) {
  return { v: 1 as const, deviceId, batchId, sentAt: new Date().toISOString(), events };
}

export function batchPayload(deviceId: string, events: unknown[], batchId?: string): string {
  return JSON.stringify(makeBatch(deviceId, events, batchId));
}
