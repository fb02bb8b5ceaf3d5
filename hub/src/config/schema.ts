import { z } from 'zod';
import { MAX_PAYLOAD_BYTES, asInt, type EnvBinding } from '@roadwatch/shared';

const Port = z.number().int().min(0).max(65535);

export const HubConfigSchema = z.strictObject({
  /** Postgres URL; when absent an embedded PGlite database lives under dataDir/pglite. */
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must start with postgres:// or postgresql://').optional(),
  dataDir: z.string().min(1).default('./data/hub'),
  host: z.string().min(1).default('0.0.0.0'),
  httpPort: Port.default(8080),
  mqttPort: Port.default(1883),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  mqtt: z
    .strictObject({
      /** PEM certificate and key; when both are set the broker speaks TLS (mqtts). */
      tlsCertFile: z.string().optional(),
      tlsKeyFile: z.string().optional(),
      maxPayloadBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(MAX_PAYLOAD_BYTES),
      /** Batches ingested at the same time (each is one DB transaction). */
      ingestConcurrency: z.number().int().min(1).max(64).default(8),
    })
    .prefault({})
    .refine((m) => Boolean(m.tlsCertFile) === Boolean(m.tlsKeyFile), {
      message: 'set both mqtt.tlsCertFile and mqtt.tlsKeyFile for TLS, or neither',
    }),
  db: z
    .strictObject({
      poolSize: z.number().int().min(1).max(200).default(10),
    })
    .prefault({}),
});

export type HubConfig = z.infer<typeof HubConfigSchema>;

export const HUB_ENV: readonly EnvBinding[] = [
  { name: 'DATABASE_URL', path: ['databaseUrl'] },
  { name: 'ROADWATCH_HUB_DATA', path: ['dataDir'] },
  { name: 'ROADWATCH_HUB_HOST', path: ['host'] },
  { name: 'ROADWATCH_HUB_HTTP_PORT', path: ['httpPort'], parse: asInt },
  { name: 'ROADWATCH_HUB_MQTT_PORT', path: ['mqttPort'], parse: asInt },
  { name: 'ROADWATCH_HUB_LOG_LEVEL', path: ['logLevel'] },
  { name: 'ROADWATCH_HUB_TLS_CERT', path: ['mqtt', 'tlsCertFile'] },
  { name: 'ROADWATCH_HUB_TLS_KEY', path: ['mqtt', 'tlsKeyFile'] },
];
