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

  it('leaves faults out when every sensor is ok', () => {
    const status = buildOnlineStatus(stats as never, 11_000, undefined, { sensors: { camera: 'ok', gps: 'ok', detector: 'ok' }, faults: [] });
    expect(status.faults).toBeUndefined();
  });
});
