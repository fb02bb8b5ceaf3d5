import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { localUrl, newAdminToken, removeAdminFile, writeAdminFile } from './api/admin/admin-file.js';
import { createApp } from './api/app.js';
import type { Readiness } from './api/health/routes.js';
import { startHttpServer, type RunningHttpServer } from './api/server.js';
import { MqttBroker } from './broker/index.js';
import type { HubConfig } from './config/schema.js';
import { openDatabase, type HubDatabase } from './db/client.js';
import { createRegistry } from './metrics.js';
import { startPeriodic, type Periodic } from './periodic.js';
import { createServices, type Services } from './services/index.js';

export interface HubDeps {
  logger: Logger;
  /** Prometheus registry; a fresh one with process metrics by default. */
  registry?: Registry;
}

export interface Hub {
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
  let broker: MqttBroker | null = null;
  let adminToken: string | null = null;
  let services: Services | null = null;
  let alarmTimer: Periodic | null = null;
  let started = false;

  const readiness = async (): Promise<Readiness> => ({
    db: database !== null && (await pingWithin(database, PING_TIMEOUT_MS)),
    broker: broker?.ready ?? false,
  });

  /** Reverse of start; tolerates a partial start. */
  const teardown = async (): Promise<void> => {
    // 1. admin.json: local CLIs stop using this process.
    if (adminToken) removeAdminFile(config.dataDir, adminToken);
    // 2. Broker first: no new batches; admitted ingests drain and are acked; clients are closed.
    if (broker) await broker.stop().catch((err: unknown) => logger.error({ err }, 'error stopping the MQTT broker'));
    // 3. Alarm rules: the timer stops after its current run; hotspot checks queued by the last ingests finish.
    if (alarmTimer) await alarmTimer.stop();
    if (services) await services.alarmRules.idle();
    // 4. HTTP: open requests finish (health answers 503 meanwhile: the broker is down).
    if (http) await http.close().catch((err: unknown) => logger.error({ err }, 'error stopping the HTTP server'));
    // 5. Database last: nothing uses it any more.
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
      try {
        mkdirSync(config.dataDir, { recursive: true });
        // 1. Database open (Postgres when databaseUrl is set, else embedded PGlite under dataDir).
        database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.db.poolSize, logger });
        // 2. Migrations (idempotent; serialised across replicas on Postgres).
        await database.migrate();
        // 3. Services over the database.
        services = createServices({ database, logger, registry, config });
        // Alarm rules on a timer (offline devices, hotspots leaving their window); they also run on ingest and status.
        const rules = services.alarmRules;
        alarmTimer = startPeriodic(() => rules.evaluateAll(), config.alarms.timerS * 1000, logger, 'alarm rules');
        // 4. HTTP server: /health answers at once, /health/ready says 503 until the broker listens.
        adminToken = newAdminToken();
        const app = createApp({ services, readiness, registry, adminToken, logger, access: config });
        http = await startHttpServer({ app, host: config.host, port: config.httpPort, logger: logger.child({ component: 'http' }) });
        // 5. MQTT broker: devices can connect and their batches are ingested from here on.
        broker = new MqttBroker({ config, services, logger, registry });
        const { port: mqttPort } = await broker.start();
        // 6. admin.json (mode 0600): `roadwatch-hub devices …` reach this process through it.
        const path = writeAdminFile(config.dataDir, { url: localUrl(config.host, http.port), token: adminToken, pid: process.pid });
        logger.info({ httpPort: http.port, mqttPort, adminFile: path, database: database.kind }, 'hub started');
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

