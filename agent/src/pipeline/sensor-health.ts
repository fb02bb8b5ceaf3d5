import type { SensorState } from '@roadwatch/shared';
import type { CameraStatus } from '../camera/frame-source.js';
import type { GpsStatus } from '../gps/gps-source.js';
import type { SensorReport } from '../uplink/status.js';
import type { SensingStats } from './sensing.js';

const CAMERA: Record<CameraStatus['state'], SensorState> = { ok: 'ok', starting: 'degraded', stalled: 'fault', fault: 'fault', ended: 'fault', stopped: 'absent' };
const GPS: Record<GpsStatus['state'], SensorState> = { ok: 'ok', 'no-fix': 'degraded', 'no-data': 'fault', fault: 'fault' };

/** More than this share of failed frames since the last report makes the detector degraded. */
const DETECT_FAILURE_SHARE = 0.2;

export interface HealthInputs {
  camera: CameraStatus;
  gps: GpsStatus;
  sensing: SensingStats;
  /** Detector counts at the previous report, so one bad frame an hour ago does not stick. */
  previous?: { submitted: number; failed: number };
}

/** The sensors' states and, for each that is not ok, one line saying what is wrong and what to do. */
export function sensorReport({ camera, gps, sensing, previous }: HealthInputs): SensorReport {
  const sensors: Record<string, SensorState> = { camera: CAMERA[camera.state], gps: GPS[gps.state], detector: 'ok' };
  const faults: string[] = [];
  if (sensors.camera !== 'ok') faults.push(`camera: ${camera.message}`);
  if (sensors.gps !== 'ok') faults.push(`gps: ${gps.message}`);
  const submitted = sensing.detect.submitted - (previous?.submitted ?? 0);
  const failed = sensing.detect.failed - (previous?.failed ?? 0);
  if (failed > 0 && failed >= submitted * DETECT_FAILURE_SHARE) {
    sensors.detector = 'degraded';
    faults.push(`detector: ${failed} of ${submitted} frames failed (${sensing.detect.lastError ?? 'unknown error'}) — check the camera stream with roadwatch camera --snapshot`);
  }
  return { sensors, faults };
}
