import { z } from 'zod';
import { DeviceIdSchema, MAX_PAYLOAD_BYTES, asInt, type EnvBinding } from '@roadwatch/shared';
import { defaultModelPath } from '../detect/model-path.js';

const MiB = 1024 * 1024;

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
      ackTimeoutMs: z.number().int().min(1000).default(30_000),
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
      threads: z.number().int().min(1).max(64).default(2),
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
  /** Camera pipeline; absent means the agent runs outbox and uplink alone (a depot box re-syncing imported data). */
  camera: z.null().default(null),
});

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
  { name: 'ROADWATCH_HUB_CA_FILE', path: ['uplink', 'caFile'] },
  { name: 'ROADWATCH_MODEL', path: ['detector', 'modelPath'] },
  { name: 'ROADWATCH_DETECTOR_PROVIDER', path: ['detector', 'provider'] },
  { name: 'ROADWATCH_DETECTOR_THREADS', path: ['detector', 'threads'], parse: asInt },
];
