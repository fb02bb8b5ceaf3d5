import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { localUrl, newAdminToken, removeAdminFile, writeAdminFile } from './api/admin/admin-file.js';
import { createApp } from './api/app.js';
import type { Readiness } from './api/health/routes.js';
import { startHttpServer, type RunningHttpServer } from './api/server.js';
import { MqttBroker } from './broker/index.js';
import type { DeviceTransport } from './broker/transport.js';
import { ExternalBroker } from './broker-external/index.js';
import { checkStartup } from './config/preflight.js';
import type { HubConfig } from './config/schema.js';
import { openDatabase, type HubDatabase, type OpenDatabaseOptions } from './db/client.js';
import { createRegistry } from './metrics.js';
import { startPeriodic, type Periodic } from './periodic.js';
import { DiagnosticsService } from './services/diagnostics.js';
import { createServices, type Services } from './services/index.js';
import { registerOpsMetrics } from './services/ops-metrics.js';

export interface HubDeps {
  logger: Logger;
  /** Prometheus registry; a fresh one with process metrics by default. */
  registry?: Registry;
  /** Opens the database (default openDatabase); tests wrap it to reach the database the hub uses. */
  openDatabase?: (options: OpenDatabaseOptions) => Promise<HubDatabase>;
}

export interface Hub {
  /** `mqttPort` is the embedded broker's port; 0 in scale-out mode (mqtt.url: devices connect to the external broker). */
  start(): Promise<{ httpPort: number; mqttPort: number }>;
  stop(): Promise<void>;
}

const PING_TIMEOUT_MS = 2_000;

/** The composition root: wires database, services, HTTP API and MQTT broker, and owns their lifecycle. */
export function createHub(config: HubConfig, deps: HubDeps): Hub {
  const logger = deps.logger;
  const registry = deps.registry ?? createRegistry();
  let database: HubDatabase | null = null;
  let http: RunningHttpServer | null = null;
  let broker: DeviceTransport | null = null;
  let adminToken: string | null = null;
  let services: Services | null = null;
  let alarmTimer: Periodic | null = null;
  let started = false;
  /** Set when stop begins: the HTTPS uplink refuses new batches (503, the device resends later). */
  let stopping = false;

  const readiness = async (): Promise<Readiness> => ({
    db: database !== null && (await pingWithin(database, PING_TIMEOUT_MS)),
    broker: broker?.ready ?? false,
  });

  /** Reverse of start; tolerates a partial start. */
  const teardown = async (): Promise<void> => {
    stopping = true;
    // 1. admin.json: local CLIs stop using this process.
    if (adminToken) removeAdminFile(config.dataDir, adminToken);
    // 2. Stop taking batches, finish those in progress, in parallel on both channels:
    //    HTTP stops accepting connections; requests in progress (HTTPS batches among them) finish and
    //    get their ack; a new batch on a kept-alive connection gets 503 shutting_down.
    const httpClosed = http ? http.close().catch((err: unknown) => logger.error({ err }, 'error stopping the HTTP server')) : Promise.resolve();
    //    Broker: no new batches; admitted ingests drain and are acked; clients are closed (embedded) or
    //    the hub disconnects, leaving what it did not take in its session on the broker (scale-out).
    if (broker) await broker.stop().catch((err: unknown) => logger.error({ err }, 'error stopping the MQTT broker'));
    await httpClosed;
    // 3. Alarm rules: the timer stops after its current run; hotspot checks queued by the last ingests run now.
    if (alarmTimer) await alarmTimer.stop();
    if (services) await services.alarmRules.flush();
    // 4. Database last: nothing uses it any more.
    if (database) await database.close().catch((err: unknown) => logger.error({ err }, 'error closing the database'));
    broker = null;
    alarmTimer = null;
    services = null;
    http = null;
    database = null;
    adminToken = null;
  };

  return {
    async start() {
      if (started) throw new Error('hub already started');
      started = true;
      stopping = false;
      try {
        // 0. What the config schema cannot check (data dir, TLS files): every problem at once, before any port opens.
        checkStartup(config);
        mkdirSync(config.dataDir, { recursive: true });
        // 1. Database open (Postgres when databaseUrl is set, else embedded PGlite under dataDir).
        const db = await (deps.openDatabase ?? openDatabase)({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.db.poolSize, logger });
        database = db;
        // 2. Migrations (idempotent; serialised across replicas on Postgres).
        await database.migrate();
        // 3. Services over the database.
        services = createServices({ database, logger, registry, config });
        // Gauges read on scrape: open alarms, devices online, DB pool (docs/OPERATIONS.md).
        registerOpsMetrics({ db: db.db, registry, logger, pool: () => db.pool?.() ?? null, offlineAfterS: config.alarms.offlineAfterS });
        const diagnostics = new DiagnosticsService({ database: db, broker: () => broker?.stats ?? null, startedAt: new Date() });
        // Alarm rules on a timer (offline devices, hotspots leaving their window); they also run on ingest and status.
        const rules = services.alarmRules;
        alarmTimer = startPeriodic(() => rules.evaluateAll(), config.alarms.timerS * 1000, logger, 'alarm rules');
        // 4. HTTP server: /health answers at once, /health/ready says 503 until the broker listens.
        adminToken = newAdminToken();
        const app = createApp({
          services,
          readiness,
          registry,
          adminToken,
          logger,
          access: config,
          uplink: { maxBodyBytes: config.uplink.maxBodyBytes, accepting: () => !stopping },
          diagnostics: () => diagnostics.report(),
          web: { map: config.map },
        });
        http = await startHttpServer({ app, host: config.host, port: config.httpPort, logger: logger.child({ component: 'http' }) });
        // 5. MQTT: the embedded broker (devices connect here), or in scale-out mode the external broker's
        //    shared subscriptions (docs/SCALE-OUT.md). Batches are ingested from here on.
        broker = config.mqtt.url ? new ExternalBroker({ config, services, logger, registry }) : new MqttBroker({ config, services, logger, registry });
        const { port: mqttPort } = await broker.start();
        // 6. admin.json (mode 0600): `roadwatch-hub devices …` reach this process through it.
        const path = writeAdminFile(config.dataDir, { url: localUrl(config.host, http.port), token: adminToken, pid: process.pid });
        const mqtt = config.mqtt.url ? { mqtt: 'external' } : { mqttPort };
        logger.info({ httpPort: http.port, ...mqtt, adminFile: path, database: database.kind }, 'hub started');
        return { httpPort: http.port, mqttPort };
      } catch (error) {
        await teardown();
        started = false;
        throw error;
      }
    },
    async stop() {
      if (!started) return;
      started = false;
      logger.info('hub stopping');
      await teardown();
      logger.info('hub stopped');
    },
  };
}

async function pingWithin(database: HubDatabase, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([database.ping().then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

