import { StatusSchema } from '@roadwatch/shared';
import { describe, expect, it } from 'vitest';
import { buildOnlineStatus } from './status.js';

const stats = { depth: 3, bytes: 900, oldestCreatedAt: 1_000, lastAckAt: null, evictedTotal: 0 };

describe('buildOnlineStatus', () => {
  it('reports the queue without sensors when there is no camera pipeline', () => {
    const status = buildOnlineStatus(stats as never, 11_000, '0.1.0');
    expect(status).toMatchObject({ state: 'online', queueDepth: 3, oldestUnsyncedAgeS: 10, agentVersion: '0.1.0' });
    expect(status.sensors).toBeUndefined();
    expect(status.faults).toBeUndefined();
  });

  it('carries sensor states and the fault lines, cut to what the protocol allows', () => {
    const long = `camera: ${'x'.repeat(600)}`;
    const status = buildOnlineStatus(stats as never, 11_000, undefined, { sensors: { camera: 'fault', gps: 'ok', detector: 'ok' }, faults: [long, ...Array.from({ length: 20 }, (_, i) => `gps: ${i}`)] });
    expect(status.sensors).toEqual({ camera: 'fault', gps: 'ok', detector: 'ok' });
    expect(status.faults).toHaveLength(16);
    expect(status.faults![0]).toHaveLength(500);
    expect(StatusSchema.safeParse(status).success).toBe(true);
  });

  it('carries the detector p95 and frames a second when given, and leaves them out otherwise', () => {
    const status = buildOnlineStatus(stats as never, 11_000, undefined, { sensors: { camera: 'ok', gps: 'ok', detector: 'ok' }, faults: [] }, { p95Ms: 38.4, fps: 4.75 });
    expect(status.detector).toEqual({ p95Ms: 38.4, fps: 4.75 });
    expect(StatusSchema.safeParse(status).success).toBe(true);
    expect(buildOnlineStatus(stats as never, 11_000, undefined, undefined, { p95Ms: null, fps: null }).detector).toEqual({ p95Ms: null, fps: null });
    expect(buildOnlineStatus(stats as never, 11_000).detector).toBeUndefined();
    expect(JSON.stringify(buildOnlineStatus(stats as never, 11_000))).not.toContain('detector');
  });

  it('leaves faults out when every sensor is ok', () => {
    const status = buildOnlineStatus(stats as never, 11_000, undefined, { sensors: { camera: 'ok', gps: 'ok', detector: 'ok' }, faults: [] });
    expect(status.faults).toBeUndefined();
  });
});
