import { mkdirSync, readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { UserError } from '@roadwatch/shared';
import type { AgentConfig } from './config/schema.js';
import type { Outbox } from './outbox/outbox.js';
import { SqliteOutbox } from './outbox/sqlite-outbox.js';
import { MqttUplink, type MqttConnect } from './uplink/mqtt-uplink.js';

export interface AgentDeps {
  logger: Logger;
  clock?: () => number;
  /** Prometheus registry for the uplink's metrics. */
  registry?: Registry;
  /** Replaces mqtt.connect (tests, fault injection). */
  mqttConnect?: MqttConnect;
}

export interface Agent {
  start(): Promise<void>;
  stop(): Promise<void>;
  outbox: Outbox;
  uplink: MqttUplink;
}

/** How often the outbox age cap is applied while nothing is appended (a depot box only drains). */
const CAPS_INTERVAL_MS = 60_000;

/**
 * Composition root of the agent service. No singletons: everything is built here from the config.
 *
 * Start order: data dir → outbox (open, apply caps) → uplink (connects in the background; the agent
 * runs offline). Stop in reverse: uplink (waits briefly for in-flight acks, publishes `offline`) →
 * outbox (close).
 */
export function createAgent(config: AgentConfig, deps: AgentDeps): Agent {
  const clock = deps.clock ?? Date.now;
  const log = deps.logger.child({ module: 'agent' });
  ensureDataDir(config.dataDir);
  const outbox = SqliteOutbox.forConfig(config, { logger: deps.logger, clock });
  const uplink = new MqttUplink({ config, outbox, logger: deps.logger, clock, registry: deps.registry, mqttConnect: deps.mqttConnect, agentVersion: agentVersion() });
  let capsTimer: NodeJS.Timeout | undefined;
  let running = false;

  return {
    outbox,
    uplink,
    async start() {
      if (running) return;
      running = true;
      outbox.enforceCaps(clock());
      capsTimer = setInterval(() => {
        try {
          outbox.enforceCaps(clock());
        } catch (error) {
          log.error({ err: error }, 'applying the outbox caps failed; retrying in a minute');
        }
      }, CAPS_INTERVAL_MS);
      if (config.camera === null) log.info('no camera configured: running outbox and uplink only');
      try {
        await uplink.start();
      } catch (error) {
        clearInterval(capsTimer);
        running = false;
        throw error;
      }
      const stats = outbox.stats();
      log.info({ deviceId: config.deviceId, dataDir: config.dataDir, queueDepth: stats.depth }, 'agent started');
    },
    async stop() {
      clearInterval(capsTimer);
      try {
        await uplink.stop();
      } finally {
        outbox.close();
        running = false;
        log.info('agent stopped');
      }
    },
  };
}

function ensureDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (error) {
    throw new UserError(`cannot create data dir ${dataDir}: ${(error as Error).message}`, 'set ROADWATCH_DATA to a directory the service user may write to');
  }
}

/** The agent package version (package.json sits one level above both src/ and dist/). */
function agentVersion(): string | undefined {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}
