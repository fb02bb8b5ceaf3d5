import { describe, expect, it } from 'vitest';
import type { CameraStatus } from '../camera/frame-source.js';
import type { GpsStatus } from '../gps/gps-source.js';
import type { SensingStats } from './sensing.js';
import { sensorReport } from './sensor-health.js';

const camera = (state: CameraStatus['state'], message = `camera ${state}`): CameraStatus => ({ state, message, framesIn: 0, framesDropped: 0, restarts: 0, decodeErrors: 0, lastError: null, lastFrameAgeMs: null });
const gps = (state: GpsStatus['state'], message = `gps ${state}`): GpsStatus => ({ state, message, lastFixAt: null, lastFixAgeMs: null, lastFix: null, sentences: 0, checksumErrors: 0, badLines: 0, reopenCount: 0, lastError: null });
const sensing = (submitted: number, failed: number): SensingStats =>
  ({ framesIn: submitted, framesWithoutTime: 0, fixesIn: 0, fixesUnusable: 0, eventsEmitted: 0, detect: { submitted, detected: submitted - failed, failed, inFlight: 0, lastError: failed ? 'cannot decode image' : null }, fusion: {} }) as unknown as SensingStats;

describe('sensorReport', () => {
  it.each([
    ['ok', 'ok', 'ok', 'ok', 0],
    ['fault', 'ok', 'fault', 'ok', 1],
    ['stalled', 'ok', 'fault', 'ok', 1],
    ['starting', 'no-fix', 'degraded', 'degraded', 2],
    ['ok', 'no-data', 'ok', 'fault', 1],
    ['ok', 'fault', 'ok', 'fault', 1],
  ] as const)('camera %s, gps %s → %s / %s', (cam, g, camState, gpsState, faults) => {
    const report = sensorReport({ camera: camera(cam), gps: gps(g), sensing: sensing(10, 0) });
    expect(report.sensors).toEqual({ camera: camState, gps: gpsState, detector: 'ok' });
    expect(report.faults).toHaveLength(faults);
  });

  it('names the fault in the words of the sensor', () => {
    const report = sensorReport({ camera: camera('fault', 'ffmpeg: /dev/video0: No such file or directory — check the camera is plugged in'), gps: gps('fault', 'GPS port /dev/ttyUSB0: permission denied — add the service user to the dialout group'), sensing: sensing(0, 0) });
    expect(report.faults).toEqual(['camera: ffmpeg: /dev/video0: No such file or directory — check the camera is plugged in', 'gps: GPS port /dev/ttyUSB0: permission denied — add the service user to the dialout group']);
  });

  it('marks the detector degraded when a fifth of the frames since the last report failed, and forgets older failures', () => {
    const bad = sensorReport({ camera: camera('ok'), gps: gps('ok'), sensing: sensing(10, 3) });
    expect(bad.sensors.detector).toBe('degraded');
    expect(bad.faults[0]).toMatch(/^detector: 3 of 10 frames failed \(cannot decode image\)/);
    const later = sensorReport({ camera: camera('ok'), gps: gps('ok'), sensing: sensing(110, 4), previous: { submitted: 10, failed: 3 } });
    expect(later.sensors.detector).toBe('ok');
  });
});
