import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { DeviceIdSchema, MAX_PAYLOAD_BYTES, asInt, type EnvBinding } from '@roadwatch/shared';
import { defaultModelPath } from '../detect/model-path.js';

const MiB = 1024 * 1024;

export const CameraConfigSchema = z
  .strictObject({
    /**
     * `v4l2` a USB/CSI camera at `device`; `rtsp` a network camera at `url`; `file` a video at `path`;
     * `frames` a folder of JPEGs at `path`; `rpicam` a Raspberry Pi camera through rpicam-vid;
     * `jetson-csi` a Jetson CSI camera through GStreamer nvarguscamerasrc; `command` any program
     * that writes MJPEG or H.264 to stdout (`command`, argv).
     */
    source: z.enum(['v4l2', 'rtsp', 'file', 'frames', 'rpicam', 'jetson-csi', 'command']),
    device: z.string().min(1).default('/dev/video0'),
    url: z.string().regex(/^(rtsps?|https?):\/\/\S+$/, 'camera URL must look like rtsp://host:554/stream').optional(),
    path: z.string().min(1).optional(),
    command: z.array(z.string().min(1)).min(1).optional(),
    /** Frames per second handed to the detector (ffmpeg drops the rest). */
    fps: z.number().positive().max(60).default(5),
    /**
     * Frames are scaled to this size. The shipped model sees 320 px wide: a larger frame only costs
     * CPU (decode, copy, resize); raise it for your own model with a larger input.
     */
    width: z.number().int().min(64).max(7680).default(640),
    height: z.number().int().min(64).max(4320).default(360),
    /** file/frames: play at `fps` (true) or as fast as the detector takes them (false). */
    realtime: z.boolean().default(true),
    /** Seconds without a frame before ffmpeg is restarted. */
    stallS: z.number().positive().default(10),
    restartMinMs: z.number().int().min(10).default(1000),
    restartMaxMs: z.number().int().min(100).default(60_000),
    /** ffmpeg binary: the system's when on PATH (apt install ffmpeg). */
    ffmpegPath: z.string().min(1).default('ffmpeg'),
    /** Where the camera sits: fusion places defects on the road with it (a 1° pitch error costs metres). */
    mount: z
      .strictObject({
        heightM: z.number().positive().max(10).default(1.4),
        pitchDeg: z.number().min(-30).max(60).default(9),
        hfovDeg: z.number().gt(10).lt(170).default(72),
        yawDeg: z.number().min(-45).max(45).default(0),
        /** Lens right of the GPS antenna. */
        lateralM: z.number().min(-5).max(5).default(0),
        /** Lens ahead of the GPS antenna. */
        forwardM: z.number().min(-20).max(20).default(0),
      })
      .prefault({}),
  })
  .superRefine((camera, ctx) => {
    const needs = { rtsp: 'url', file: 'path', frames: 'path', command: 'command' } as const;
    const field = needs[camera.source as keyof typeof needs];
    if (field && camera[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: `camera source "${camera.source}" needs camera.${field}` });
  });

export const AgentConfigSchema = z.strictObject({
  deviceId: DeviceIdSchema,
  deviceSecret: z.string().min(1, 'device secret is empty — use the secret printed by `roadwatch-hub devices add`'),
  /** mqtt://host:1883 or mqtts://host:8883 */
  hubUrl: z
    .string()
    .regex(/^mqtts?:\/\/[^\s/]+(:\d+)?\/?$/, 'hub URL must look like mqtt://host:1883 or mqtts://host:8883'),
  dataDir: z.string().min(1).default('./data/agent'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  outbox: z
    .strictObject({
      /** Payload bytes kept before the oldest rows are evicted. */
      maxBytes: z.number().int().min(MiB).default(2048 * MiB),
      /** Rows older than this are evicted (days offline must lose nothing: default 30 days). */
      maxAgeHours: z.number().positive().default(24 * 30),
      /** How often the outbox is checked for rows written by another process (e.g. `roadwatch replay`). */
      pollMs: z.number().int().min(50).default(1000),
    })
    .prefault({}),
  uplink: z
    .strictObject({
      batchMaxEvents: z.number().int().min(1).max(10_000).default(500),
      batchMaxBytes: z.number().int().min(4096).max(MAX_PAYLOAD_BYTES).default(256 * 1024),
      maxInFlight: z.number().int().min(1).max(64).default(4),
      /** A batch that is not full waits until this long after the previous one (0: sends at once); for big fleets, see docs/FLEET.md. */
      lingerMs: z.number().int().min(0).max(60_000).default(0),
      /** Resend when no ack at all came for this long while batches are out (see ackOverdue). */
      ackTimeoutMs: z.number().int().min(1000).default(30_000),
      /** …and when the oldest batch waited this long although acks for later ones came (at least ackTimeoutMs). */
      ackMaxWaitMs: z.number().int().min(1000).default(240_000),
      statusIntervalMs: z.number().int().min(1000).default(30_000),
      keepaliveS: z.number().int().min(5).max(3600).default(30),
      backoffMinMs: z.number().int().min(10).default(500),
      backoffMaxMs: z.number().int().min(100).default(60_000),
      /** PEM CA bundle for mqtts:// when the hub's certificate is not from a public CA. */
      caFile: z.string().optional(),
      rejectUnauthorized: z.boolean().default(true),
    })
    .prefault({}),
  detector: z
    .strictObject({
      /** ONNX model: the shipped road-damage model, or your own ultralytics YOLOv5/v8/11 export. */
      modelPath: z.string().min(1).default(defaultModelPath()),
      /** Class names, when the model's metadata has none or you want to rename them; must match its class count. */
      classes: z.array(z.string().min(1)).min(1).optional(),
      provider: z.enum(['cpu', 'cuda', 'tensorrt']).default('cpu'),
      /** onnxruntime intra-op threads; the default, CPUs − 1, leaves a core for decoding the next frame. */
      threads: z.number().int().min(1).max(64).default(Math.max(1, availableParallelism() - 1)),
      /** Minimum confidence for every class … */
      confidence: z.number().min(0).max(1).default(0.25),
      /** … unless a class has its own, e.g. {"D40": 0.4}. */
      classConfidence: z.record(z.string(), z.number().min(0).max(1)).default({}),
      iou: z.number().gt(0).max(1).default(0.45),
      maxDetections: z.number().int().min(1).max(1000).default(100),
      /** Larger images are refused before decoding (no memory blow-up on a 100-megapixel file). */
      maxPixels: z.number().int().min(1).default(40_000_000),
    })
    .prefault({}),
  /** GPS receiver: NMEA on a serial port, or gpsd. See agent/src/gps. */
  gps: z
    .strictObject({
      /**
       * `serial`: NMEA 0183 from `port`; `gpsd`: gpsd's JSON on `gpsdHost:gpsdPort` (when gpsd owns the
       * receiver); `file`: a recorded NMEA log at `file`, played in real time (demos, bench tests).
       */
      source: z.enum(['serial', 'gpsd', 'file']).default('serial'),
      file: z.string().min(1).optional(),
      /** Prefer a stable name from /dev/serial/by-id/ over /dev/ttyUSB0 (numbers change between boots). */
      port: z.string().min(1).default('/dev/ttyUSB0'),
      baud: z
        .number()
        .int()
        .refine((b) => [4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600].includes(b), 'baud must be a standard rate: 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800 or 921600')
        .default(9600),
      gpsdHost: z.string().min(1).default('127.0.0.1'),
      gpsdPort: z.number().int().min(1).max(65535).default(2947),
      /** Seconds without any NMEA before the status says no-data. */
      noDataS: z.number().positive().default(5),
      /** Seconds without a position before the status says so plainly (no-fix). */
      noFixS: z.number().positive().default(60),
      reopenMinMs: z.number().int().min(10).default(500),
      reopenMaxMs: z.number().int().min(100).default(30_000),
    })
    .refine((gps) => gps.source !== 'file' || gps.file !== undefined, { path: ['file'], message: 'gps source "file" needs gps.file (a recorded NMEA log)' })
    .prefault({}),
  /** Camera pipeline; null means the agent runs outbox and uplink alone (a depot box re-syncing imported data). */
  camera: CameraConfigSchema.nullable().default(null),
  /**
   * The service's local control endpoint (`roadwatch status`, `sync --now`, `gps --watch`, `doctor`):
   * a unix socket, `<dataDir>/control.sock` unless `socket` names another, or 127.0.0.1:`port`.
   */
  control: z
    .strictObject({
      socket: z.string().min(1).optional(),
      port: z.number().int().min(1).max(65535).optional(),
    })
    .refine((c) => c.socket === undefined || c.port === undefined, { message: 'give control.socket or control.port, not both' })
    .prefault({}),
});

export type CameraConfig = z.infer<typeof CameraConfigSchema>;
export type CameraMount = CameraConfig['mount'];

export type AgentConfig = z.infer<typeof AgentConfigSchema>;

export const AGENT_ENV: readonly EnvBinding[] = [
  { name: 'ROADWATCH_DEVICE_ID', path: ['deviceId'] },
  { name: 'ROADWATCH_DEVICE_SECRET', path: ['deviceSecret'] },
  { name: 'ROADWATCH_HUB_URL', path: ['hubUrl'] },
  { name: 'ROADWATCH_DATA', path: ['dataDir'] },
  { name: 'ROADWATCH_LOG_LEVEL', path: ['logLevel'] },
  { name: 'ROADWATCH_OUTBOX_MAX_BYTES', path: ['outbox', 'maxBytes'], parse: asInt },
  { name: 'ROADWATCH_UPLINK_BATCH_MAX_EVENTS', path: ['uplink', 'batchMaxEvents'], parse: asInt },
  { name: 'ROADWATCH_UPLINK_MAX_IN_FLIGHT', path: ['uplink', 'maxInFlight'], parse: asInt },
  { name: 'ROADWATCH_UPLINK_LINGER_MS', path: ['uplink', 'lingerMs'], parse: asInt },
  { name: 'ROADWATCH_HUB_CA_FILE', path: ['uplink', 'caFile'] },
  { name: 'ROADWATCH_MODEL', path: ['detector', 'modelPath'] },
  { name: 'ROADWATCH_DETECTOR_PROVIDER', path: ['detector', 'provider'] },
  { name: 'ROADWATCH_DETECTOR_THREADS', path: ['detector', 'threads'], parse: asInt },
  { name: 'ROADWATCH_GPS_SOURCE', path: ['gps', 'source'] },
  { name: 'ROADWATCH_GPS_PORT', path: ['gps', 'port'] },
  { name: 'ROADWATCH_GPS_BAUD', path: ['gps', 'baud'], parse: asInt },
  { name: 'ROADWATCH_GPS_FILE', path: ['gps', 'file'] },
  { name: 'ROADWATCH_CAMERA_SOURCE', path: ['camera', 'source'] },
  { name: 'ROADWATCH_CAMERA_DEVICE', path: ['camera', 'device'] },
  { name: 'ROADWATCH_CAMERA_URL', path: ['camera', 'url'] },
  { name: 'ROADWATCH_CAMERA_PATH', path: ['camera', 'path'] },
  { name: 'ROADWATCH_CONTROL_SOCKET', path: ['control', 'socket'] },
  { name: 'ROADWATCH_CONTROL_PORT', path: ['control', 'port'], parse: asInt },
];
