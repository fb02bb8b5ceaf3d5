import { z } from 'zod';
import { MAX_PAYLOAD_BYTES, asInt, type EnvBinding } from '@roadwatch/shared';
import { ACCESS_CONFIG_SHAPE, ACCESS_ENV } from './access.js';
import { MAP_CONFIG_SHAPE, MAP_ENV } from './map.js';

const Port = z.number().int().min(0).max(65535);
const H3Resolution = z.number().int().min(0).max(15);
const Seconds = z.number().int().min(0).max(365 * 86_400);

/** Alarm rule thresholds (docs/ALARMS.md). */
export const AlarmsConfigSchema = z.strictObject({
  /** How often the rules are re-evaluated for every device and cell (offline devices, hotspots leaving the window). */
  timerS: Seconds.min(1).default(60),
  /** severe_damage: one alarm per H3 cell at `resolution` (12 ≈ 300 m², about one defect) for an event of these classes at or above minConfidence. */
  severe: z
    .strictObject({
      classes: z.array(z.string().min(1).max(64)).default(['D40']),
      minConfidence: z.number().min(0).max(1).default(0.6),
      resolution: H3Resolution.default(12),
    })
    .prefault({}),
  /** hotspot: ≥ minEvents events from ≥ minDevices distinct vehicles in one aggregates.h3Resolution cell within the last `days` UTC days. */
  hotspot: z
    .strictObject({
      minEvents: z.number().int().min(1).default(5),
      minDevices: z.number().int().min(1).default(2),
      days: z.number().int().min(1).max(366).default(7),
    })
    .prefault({}),
  /** device_offline: the last will (state offline), or no status and no events for this long. */
  offlineAfterS: Seconds.min(1).default(900),
  /** outbox_backlog: the device's status reports a queue deeper or older than this. */
  backlog: z
    .strictObject({
      maxQueueDepth: z.number().int().min(0).default(10_000),
      maxOldestAgeS: Seconds.default(86_400),
    })
    .prefault({}),
  /** sensor_fault: a sensor reported `fault` for longer than this. */
  sensorFaultAfterS: Seconds.default(300),
});
export type AlarmsConfig = z.infer<typeof AlarmsConfigSchema>;

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
      /** PEM certificate and key; when both are set the embedded broker speaks TLS (mqtts). Unused with mqtt.url. */
      tlsCertFile: z.string().optional(),
      tlsKeyFile: z.string().optional(),
      maxPayloadBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(MAX_PAYLOAD_BYTES),
      /**
       * Batches admitted at the same time (waiting for or in an ingest statement; also statuses
       * recorded at once, and the MQTT 5 receive maximum). More than ingest.statements, so that the
       * batches arriving while statements run can be coalesced (group commit).
       */
      ingestConcurrency: z.number().int().min(1).max(1024).default(256),
      /**
       * Scale-out mode (docs/SCALE-OUT.md): the URL of an external MQTT 5 broker (mqtt:// or mqtts://).
       * Set, the hub embeds no broker: it takes batches and statuses from shared subscriptions there.
       */
      url: z.string().regex(/^mqtts?:\/\/[^/]/, 'mqtt.url must look like mqtt://host:1883 or mqtts://host:8883').optional(),
      /** The hub's own user on the external broker (the same for every replica). */
      username: z.string().min(1).max(256).optional(),
      password: z.string().min(1).max(4096).optional(),
      /** Client id of this replica, stable across its restarts and unique among replicas (default roadwatch-hub-<hostname>). */
      clientId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'mqtt.clientId: 1–128 of A–Z a–z 0–9 . _ : -').optional(),
      /** Shared-subscription group every replica joins: $share/<shareGroup>/roadwatch/v1/devices/+/events (and …/status). */
      shareGroup: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'mqtt.shareGroup: 1–64 of A–Z a–z 0–9 . _ -').default('roadwatch-hub'),
      /** How long the broker keeps this replica's session (its queued batches) while it is away. */
      sessionExpiryS: z.number().int().min(1).max(7 * 86_400).default(300),
      /** PEM CA for an mqtts:// external broker with a private CA. */
      caFile: z.string().min(1).optional(),
    })
    .prefault({})
    .superRefine((m, ctx) => {
      if (Boolean(m.tlsCertFile) !== Boolean(m.tlsKeyFile)) {
        ctx.addIssue({ code: 'custom', message: 'set both mqtt.tlsCertFile and mqtt.tlsKeyFile for TLS, or neither' });
      }
      if (!m.url) {
        const stray = (['username', 'password', 'clientId', 'caFile'] as const).filter((key) => m[key] !== undefined);
        if (stray.length) {
          ctx.addIssue({
            code: 'custom',
            message: `mqtt.${stray.join(', mqtt.')} only apply to an external broker — set mqtt.url (ROADWATCH_HUB_MQTT_URL) too, or unset them`,
          });
        }
      }
    }),
  db: z
    .strictObject({
      poolSize: z.number().int().min(1).max(200).default(10),
    })
    .prefault({}),
  /** Group commit of device batches (docs/OPERATIONS.md#ingest-and-group-commit). */
  ingest: z
    .strictObject({
      /** Ingest statements (transactions) in flight at once; batches arriving while all run are coalesced into the next. */
      statements: z.number().int().min(1).max(64).default(4),
      /** At most this many batches in one statement. */
      maxBatchesPerStatement: z.number().int().min(1).max(1024).default(64),
      /** At most this many events in one statement (a single larger batch still runs alone). */
      maxEventsPerStatement: z.number().int().min(1).max(1_000_000).default(5000),
    })
    .prefault({}),
  /** HTTPS uplink for devices that cannot use MQTT: POST /api/v1/devices/{deviceId}/events (docs/OPERATIONS.md). */
  uplink: z
    .strictObject({
      /** Largest request body accepted; larger ones get 413 before anything is stored. */
      maxBodyBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(MAX_PAYLOAD_BYTES),
    })
    .prefault({}),
  aggregates: z
    .strictObject({
      /** H3 resolution of detections.h3_cell, the cell rollups and the hotspot rule (9 ≈ 0.1 km² cells). */
      h3Resolution: H3Resolution.default(9),
    })
    .prefault({}),
  alarms: AlarmsConfigSchema.prefault({}),
  /** REST API access: allowedIps, trustedProxies, cors, rateLimit, metrics (docs/API-ACCESS.md). */
  ...ACCESS_CONFIG_SHAPE,
  /** The dashboard's basemap: map.tilesUrl, tilesAttribution, tilesMaxZoom (docs/DASHBOARD.md). */
  ...MAP_CONFIG_SHAPE,
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
  { name: 'ROADWATCH_HUB_MQTT_URL', path: ['mqtt', 'url'] },
  { name: 'ROADWATCH_HUB_MQTT_USERNAME', path: ['mqtt', 'username'] },
  { name: 'ROADWATCH_HUB_MQTT_PASSWORD', path: ['mqtt', 'password'] },
  { name: 'ROADWATCH_HUB_MQTT_CLIENT_ID', path: ['mqtt', 'clientId'] },
  { name: 'ROADWATCH_HUB_MQTT_SHARE_GROUP', path: ['mqtt', 'shareGroup'] },
  { name: 'ROADWATCH_HUB_MQTT_CA_FILE', path: ['mqtt', 'caFile'] },
  { name: 'ROADWATCH_HUB_MQTT_INGEST_CONCURRENCY', path: ['mqtt', 'ingestConcurrency'], parse: asInt },
  { name: 'ROADWATCH_HUB_INGEST_STATEMENTS', path: ['ingest', 'statements'], parse: asInt },
  { name: 'ROADWATCH_HUB_INGEST_MAX_BATCHES', path: ['ingest', 'maxBatchesPerStatement'], parse: asInt },
  { name: 'ROADWATCH_HUB_INGEST_MAX_EVENTS', path: ['ingest', 'maxEventsPerStatement'], parse: asInt },
  { name: 'ROADWATCH_HUB_UPLINK_MAX_BODY_BYTES', path: ['uplink', 'maxBodyBytes'], parse: asInt },
  ...ACCESS_ENV,
  ...MAP_ENV,
];
