import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DetectResult } from '../detect/detector.js';
import type { OutboxStats } from '../outbox/outbox.js';

/** What the metrics read at scrape time (nothing is counted per frame except detections). */
export interface MetricsReadings {
  camera: { framesIn: number; framesDropped: number; restarts: number; decodeErrors: number; fps: number | null } | null;
  pipeline: { eventsEmitted: number; framesFailed: number } | null;
  gps: { sentences: number; checksumErrors: number; badLines: number; sats: number | null; hdop: number | null; hasFix: boolean } | null;
  sensors: Record<string, string> | null;
  outbox: OutboxStats | null;
  now: number;
}

export interface AgentMetrics {
  /** Called with every detector result: inference latency and detections per class. */
  observe(result: DetectResult): void;
}

const SENSOR_STATES = ['ok', 'degraded', 'fault', 'absent'] as const;

/**
 * The agent's pipeline metrics, on the registry the uplink uses (`roadwatch_uplink_*`), served by
 * the control endpoint's `GET /metrics`. Counters whose source keeps its own count (camera,
 * GPS, pipeline) are brought up to date at scrape time; a source that starts over (the pipeline
 * restarted in-process) never makes them go down.
 */
export function registerAgentMetrics(registry: Registry, read: () => MetricsReadings): AgentMetrics {
  let cached: MetricsReadings | null = null;
  // One reading per scrape: the first collect() of a scrape reads, the others reuse it.
  const readings = (): MetricsReadings => {
    if (!cached) {
      cached = read();
      setImmediate(() => (cached = null));
    }
    return cached;
  };
  const names: string[] = [];
  const owned = <T extends { name: string }>(config: T): T => {
    registry.removeSingleMetric(config.name);
    names.push(config.name);
    return config;
  };

  const mirrored = (name: string, help: string, value: (r: MetricsReadings) => number | undefined) => {
    let last = 0;
    new Counter(
      owned({
        name,
        help,
        registers: [registry],
        collect(this: Counter) {
          const now = value(readings());
          if (now === undefined) return;
          if (now >= last) this.inc(now - last);
          else this.inc(now); // the source started over
          last = now;
        },
      }),
    );
  };
  const gauge = (name: string, help: string, value: (r: MetricsReadings) => number | null | undefined) =>
    new Gauge(
      owned({
        name,
        help,
        registers: [registry],
        collect(this: Gauge) {
          const v = value(readings());
          if (v === null || v === undefined) this.reset();
          else this.set(v);
        },
      }),
    );

  mirrored('roadwatch_camera_frames_total', 'Frames the camera (ffmpeg) delivered, dropped ones included', (r) => r.camera?.framesIn);
  mirrored('roadwatch_camera_frames_dropped_total', 'Frames dropped because the detector was busy (drop-newest)', (r) => r.camera?.framesDropped);
  mirrored('roadwatch_camera_restarts_total', 'ffmpeg restarts after a stall or a fault', (r) => r.camera?.restarts);
  mirrored('roadwatch_camera_decode_errors_total', 'Corrupt frames ffmpeg concealed or skipped', (r) => r.camera?.decodeErrors);
  gauge('roadwatch_camera_fps', 'Frames a second the camera delivered over the last 10 s', (r) => r.camera?.fps);
  mirrored('roadwatch_detector_failures_total', 'Frames the detector could not process', (r) => r.pipeline?.framesFailed);
  mirrored('roadwatch_events_emitted_total', 'Events fusion released to the outbox (one per defect)', (r) => r.pipeline?.eventsEmitted);
  mirrored('roadwatch_gps_sentences_total', 'Good NMEA sentences (or gpsd reports) received', (r) => r.gps?.sentences);
  mirrored('roadwatch_gps_checksum_errors_total', 'NMEA sentences dropped for a bad or missing checksum', (r) => r.gps?.checksumErrors);
  mirrored('roadwatch_gps_bad_lines_total', 'Lines from the receiver that held no usable sentence', (r) => r.gps?.badLines);
  gauge('roadwatch_gps_fix', '1 when the last GPS fix had a position', (r) => (r.gps ? (r.gps.hasFix ? 1 : 0) : null));
  gauge('roadwatch_gps_satellites', 'Satellites used in the last fix', (r) => r.gps?.sats);
  gauge('roadwatch_gps_hdop', 'Horizontal dilution of precision of the last fix', (r) => r.gps?.hdop);
  gauge('roadwatch_outbox_depth_events', 'Events waiting in the outbox for a hub ack', (r) => r.outbox?.depth);
  gauge('roadwatch_outbox_bytes', 'Payload bytes waiting in the outbox', (r) => r.outbox?.bytes);
  gauge('roadwatch_outbox_oldest_unsynced_age_seconds', 'Age of the oldest event not yet acked by the hub', (r) =>
    r.outbox ? (r.outbox.oldestCreatedAt === null ? 0 : Math.max(0, (r.now - r.outbox.oldestCreatedAt) / 1000)) : null,
  );
  mirrored('roadwatch_outbox_evicted_total', 'Events lost to the outbox byte or age cap', (r) => r.outbox?.evictedTotal);
  new Gauge(
    owned({
      name: 'roadwatch_sensor_state',
      help: 'Sensor state (1 for the current one)',
      labelNames: ['sensor', 'state'] as const,
      registers: [registry],
      collect(this: Gauge<'sensor' | 'state'>) {
        this.reset();
        for (const [sensor, current] of Object.entries(readings().sensors ?? {})) {
          for (const state of SENSOR_STATES) this.set({ sensor, state }, state === current ? 1 : 0);
        }
      },
    }),
  );

  const detections = new Counter(owned({ name: 'roadwatch_detections_total', help: 'Detections the model made, by class (before fusion)', labelNames: ['class'] as const, registers: [registry] }));
  const frames = new Counter(owned({ name: 'roadwatch_detector_frames_total', help: 'Frames the detector processed', registers: [registry] }));
  const inference = new Histogram(
    owned({
      name: 'roadwatch_inference_duration_seconds',
      help: 'Model inference time per frame (session run, queueing in the worker included)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5],
      registers: [registry],
    }),
  );
  const detect = new Histogram(
    owned({
      name: 'roadwatch_detect_duration_seconds',
      help: 'Whole detect step per frame: letterbox, inference, postprocess',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  );
  return {
    observe(result) {
      frames.inc();
      const t = result.timings;
      inference.observe(t.inferenceMs / 1000);
      detect.observe((t.preprocessMs + t.inferenceMs + t.postprocessMs) / 1000);
      for (const d of result.detections) detections.inc({ class: d.class });
    },
  };
}
