import type { EventBodyInput } from '@roadwatch/shared';
import type { Logger } from 'pino';
import type { Frame, FrameSource } from '../camera/frame-source.js';
import type { ClockPolicy } from '../clock/clock-policy.js';
import type { DetectResult, Detector } from '../detect/detector.js';
import type { Fusion } from '../fusion/index.js';
import type { GpsSource } from '../gps/gps-source.js';
import type { SensorReport } from '../uplink/status.js';
import { Sensing, type SensingStats } from './sensing.js';
import { sensorReport } from './sensor-health.js';

export interface LiveSensingOptions {
  camera: FrameSource;
  gps: GpsSource;
  detector: Detector;
  fusion: Fusion;
  clock: ClockPolicy;
  emit: (events: EventBodyInput[]) => void;
  logger: Logger;
  /** Sees every detector result (the service's metrics). */
  onDetected?: (result: DetectResult) => void;
}

/**
 * The vehicle's sensing: a live camera and GPS receiver through detector and fusion. Frames are
 * timed on the GPS time base (the clock policy's GPS offset from the monotonic clock), so they
 * meet the fixes on one clock even when the system clock is wrong.
 *
 * Start: GPS first (its time stamps the frames), then the camera — for a recorded camera, the GPS
 * with its first frame. Stop: camera (no new frames),
 * frames in detection drained and open tracks released as events, then GPS.
 */
export class LiveSensing {
  readonly sensing: Sensing;
  private unsubscribe: (() => void)[] = [];
  private lastReport = { submitted: 0, failed: 0 };
  private gpsStarting: () => Promise<void> | null = () => null;
  private readonly log: Logger;
  /** The newest frame the pipeline took (a reference, not a copy: delivered frames are never reused). */
  private latest: Frame | null = null;
  private readonly sink = (frame: Frame) => {
    this.latest = frame;
    return this.sensing.sink(frame);
  };

  constructor(private readonly options: LiveSensingOptions) {
    this.log = options.logger.child({ module: 'sensing' });
    this.sensing = new Sensing({
      detector: options.detector,
      fusion: options.fusion,
      emit: options.emit,
      logger: options.logger,
      onDetected: options.onDetected,
      frameClock: (frame) => {
        const tMs = options.clock.gpsTimeAt(frame.monoMs);
        return tMs === null ? null : { tMs, clock: 'gps' };
      },
    });
  }

  async start(): Promise<void> {
    const { gps, camera, clock } = this.options;
    this.unsubscribe.push(
      gps.onFix((fix) => {
        clock.observeFix(fix);
        this.sensing.onFix(fix);
      }),
      gps.onStatus((s) => this.log.info({ sensor: 'gps', state: s.state }, s.message)),
      camera.onStatus((s) => (s.state === 'fault' || s.state === 'stalled' ? this.log.warn : this.log.info).call(this.log, { sensor: 'camera', state: s.state }, s.message)),
    );
    if (camera.recorded) {
      // A recording played in `run` (a demo, a bench test) and a recorded NMEA log must play in
      // step: the log starts with the first frame rather than when ffmpeg was spawned.
      let gpsStarted: Promise<void> | null = null;
      await camera.start((frame) => {
        gpsStarted ??= gps.start();
        return this.sink(frame);
      });
      this.gpsStarting = () => gpsStarted;
    } else {
      await gps.start();
      await camera.start(this.sink);
    }
    this.log.info({ camera: camera.name, gps: gps.name }, 'sensing started');
  }

  async stop(): Promise<void> {
    try {
      await this.options.camera.stop();
      await this.sensing.flush();
    } finally {
      await this.gpsStarting();
      await this.options.gps.stop();
      for (const off of this.unsubscribe.splice(0)) off();
    }
    const stats = this.sensing.stats();
    this.log.info({ frames: stats.framesIn, events: stats.eventsEmitted }, 'sensing stopped');
  }

  stats(): SensingStats {
    return this.sensing.stats();
  }

  /** For the status payload: each call compares the detector's failures with the previous call's. */
  report(): SensorReport {
    const sensing = this.sensing.stats();
    const report = sensorReport({ camera: this.options.camera.status(), gps: this.options.gps.status(), sensing, previous: this.lastReport });
    this.lastReport = { submitted: sensing.detect.submitted, failed: sensing.detect.failed };
    return report;
  }

  /** The same report without moving the detector's comparison point (the control endpoint reads it at any time). */
  peekReport(): SensorReport {
    return sensorReport({ camera: this.options.camera.status(), gps: this.options.gps.status(), sensing: this.sensing.stats(), previous: this.lastReport });
  }

  /** The newest frame the pipeline took from the camera, or null before the first. */
  lastFrame(): Frame | null {
    return this.latest;
  }

  get camera(): FrameSource {
    return this.options.camera;
  }

  get gps(): GpsSource {
    return this.options.gps;
  }

  get detector(): Detector {
    return this.options.detector;
  }

  get clock(): ClockPolicy {
    return this.options.clock;
  }
}
