import { describe, expect, it } from 'vitest';
import { RateWindow } from './rate-window.js';
import { healthOf, maskUrl, type AgentStatus } from './status.js';

describe('RateWindow', () => {
  it('measures a rate over the last window from a sampled counter, and starts over when the counter does', () => {
    const w = new RateWindow(10_000);
    expect(w.rate()).toBeNull();
    for (let s = 0; s <= 30; s++) w.sample(s * 1000, s < 20 ? s * 5 : 100 + (s - 20) * 2); // 5 fps, then 2 fps
    expect(w.rate()).toBeCloseTo(2, 5);
    expect(w.spanS()).toBe(10);
    w.sample(31_000, 3); // a new camera: counts from 0 again
    expect(w.rate()).toBeNull();
    w.sample(32_000, 8);
    expect(w.rate()).toBe(5);
  });
});

describe('healthOf', () => {
  const base: Pick<AgentStatus, 'sensors' | 'detector' | 'outbox' | 'uplink'> = {
    sensors: { sensors: { camera: 'ok', gps: 'ok', detector: 'ok' }, faults: [] },
    detector: null,
    outbox: { depth: 0, bytes: 0, maxBytes: 1, newestSeq: null, oldestCreatedAt: null, oldestUnsyncedAgeS: null, lastAckAt: null, evictedTotal: 0 },
    uplink: { state: 'online', hubUrl: 'mqtt://hub', inFlight: 0, lastAckAt: null, lastError: null, connects: 1, connectFailures: 0, authFailures: 0, batchesSent: 0, batchesAcked: 0, eventsSettled: 0, ackTimeouts: 0 },
  };

  it('a sensor in fault, an unreadable outbox and refused credentials are unhealthy; degraded and offline are warnings', () => {
    expect(healthOf(base)).toEqual({ ok: true, reasons: [], warnings: [] });
    const sick = healthOf({
      ...base,
      sensors: { sensors: { camera: 'fault', gps: 'degraded', detector: 'ok' }, faults: ['camera: ffmpeg: /dev/video0: No such file or directory — plug it in', 'gps: GPS port x: receiving, waiting for a first fix'] },
      outbox: { ...base.outbox, error: 'database disk image is malformed' },
      uplink: { ...base.uplink, state: 'backoff', lastError: 'Connection refused: Bad username or password' },
    });
    expect(sick.ok).toBe(false);
    expect(sick.reasons).toEqual([
      'camera: ffmpeg: /dev/video0: No such file or directory — plug it in',
      'outbox: database disk image is malformed',
      'uplink: the hub refuses the device credentials (Connection refused: Bad username or password) — check ROADWATCH_DEVICE_SECRET or re-issue with roadwatch-hub devices add',
    ]);
    expect(sick.warnings).toEqual(['gps: GPS port x: receiving, waiting for a first fix']);
    const offline = healthOf({ ...base, uplink: { ...base.uplink, state: 'backoff', lastError: 'connect ECONNREFUSED 127.0.0.1:1883' } });
    expect(offline).toEqual({ ok: true, reasons: [], warnings: ['uplink: backoff (connect ECONNREFUSED 127.0.0.1:1883) — events wait in the outbox until the hub is reachable'] });
  });

  it('masks a password in the hub URL', () => {
    expect(maskUrl('mqtts://veh:s3cret@hub.example.org:8883')).toBe('mqtts://veh:***@hub.example.org:8883');
    expect(maskUrl('mqtt://hub:1883')).toBe('mqtt://hub:1883');
  });
});
