import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { findMosquitto, startMosquitto, type TestMosquitto } from '../../hub/src/broker-external/testing/mosquitto.js';
import { openDatabase } from '../../hub/src/db/client.js';
import { createServices } from '../../hub/src/services/index.js';
import { newSecret } from '../../hub/src/services/secrets.js';
import { outboxDepth } from './agent.js';
import { OutboxFeeder, type FeederOptions } from './load.js';
import type { PgCluster } from './pg-cluster.js';
import { AGENT_BIN, HUB_BIN, ManagedProcess, spawnNode, waitUntil, type LogLine } from './processes.js';

export { findMosquitto };

const HUB_USER = 'roadwatch-hub';

/**
 * Hub settings of the fault suite: alarm rules every 2 s (so replicas race on them during the
 * faults), short broker sessions (a replica killed for good stops taking a share of the batches
 * after 10 s), small pools.
 */
export const FAULT_HUB_CONFIG = {
  alarms: { timerS: 2 },
  mqtt: { sessionExpiryS: 10, ingestConcurrency: 4 },
  db: { poolSize: 6 },
};

/**
 * Agent settings: an ack missing for 4 s is resent (the hub stores it once; the wait doubles after a
 * resend that brought no ack, up to 12 s), reconnects within a second, keepalive 5 s (a stalled link is
 * noticed in ~8 s), statuses every 2 s, batches of 100.
 */
export const FAULT_AGENT_CONFIG = {
  outbox: { pollMs: 200 },
  uplink: { ackTimeoutMs: 4000, ackMaxWaitMs: 12_000, backoffMinMs: 100, backoffMaxMs: 1000, keepaliveS: 5, statusIntervalMs: 2000, batchMaxEvents: 100 },
};

const isMsg = (text: string) => (l: LogLine) => l.msg === text;

/** One `roadwatch-hub serve` replica in scale-out mode (mqtt.url → the private Mosquitto). */
export class ReplicaProcess {
  proc!: ManagedProcess;
  httpPort = 0;
  /** Every process this replica ran (restarts add one), for failure messages. */
  readonly runs: ManagedProcess[] = [];

  constructor(
    readonly name: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly configFile: string,
  ) {}

  get running(): boolean {
    return this.proc?.running ?? false;
  }

  /** Starts and waits until it is subscribed on the broker (ready to ingest). */
  async start(): Promise<this> {
    this.proc = spawnNode(HUB_BIN, ['serve', '--config', this.configFile], this.env, `hub ${this.name}`);
    this.runs.push(this.proc);
    const started = await this.proc.waitForLog(isMsg('hub started'), 60_000);
    this.httpPort = Number(started.httpPort);
    await this.proc.waitForLog(isMsg('connected to the external MQTT broker and subscribed'), 60_000);
    return this;
  }

  /** SIGTERM: the graceful stop (drain, ack, disconnect keeping the session); resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (!this.running) return this.proc?.exited ?? null;
    return this.proc.kill('SIGTERM', 30_000);
  }

  async kill9(): Promise<void> {
    if (this.running) await this.proc.kill('SIGKILL');
  }

  /** Ingest log lines that report an error (a failed batch is left unacked and resent by the vehicle). */
  errors(): LogLine[] {
    return this.runs.flatMap((r) => r.lines.filter((l) => Number(l.level) >= 50));
  }

  tail(): string {
    return this.runs.map((r) => `--- ${r.name}\n${r.tail(15)}`).join('\n');
  }
}

export interface Vehicle {
  deviceId: string;
  secret: string;
  dataDir: string;
  feeder: OutboxFeeder | null;
  agent: ManagedProcess | null;
}

export interface FaultClusterOptions {
  pg: PgCluster;
  /** Scenario name: database `rw_fault_<name>`, client ids, temp dir. */
  name: string;
  devices: string[];
  replicas?: number;
  hubConfig?: Record<string, unknown>;
}

/**
 * One fault scenario's world: its own database on the private Postgres cluster, its own private
 * Mosquitto (the shipped config), hub replicas in scale-out mode, and vehicles — each a real
 * `roadwatch run` process (started by the scenario) plus an OutboxFeeder writing its events.
 */
export class FaultCluster {
  readonly replicas: ReplicaProcess[] = [];
  readonly vehicles = new Map<string, Vehicle>();
  private readonly agentConfigFile: string;

  private constructor(
    readonly options: FaultClusterOptions,
    readonly dir: string,
    readonly databaseUrl: string,
    readonly broker: TestMosquitto,
    private readonly hubPassword: string,
  ) {
    this.agentConfigFile = join(dir, 'agent.json');
    writeFileSync(this.agentConfigFile, JSON.stringify(FAULT_AGENT_CONFIG));
  }

  static async start(options: FaultClusterOptions): Promise<FaultCluster> {
    const mosquitto = findMosquitto();
    if (!mosquitto) throw new Error('mosquitto binary not found');
    const dir = mkdtempSync(join(tmpdir(), `rw-fault-${options.name}-`));
    const databaseUrl = await options.pg.createDatabase(`rw_fault_${options.name}_${Date.now().toString(36)}`);
    // Migrate and register the vehicles, as `roadwatch-hub devices add <id> --mosquitto-passwd FILE` does.
    const secrets: Record<string, string> = {};
    const database = await openDatabase({ databaseUrl, dataDir: dir, poolSize: 2, logger: pino({ level: 'silent' }) });
    try {
      await database.migrate();
      const services = createServices({ database, logger: pino({ level: 'silent' }) });
      for (const id of options.devices) secrets[id] = (await services.devices.add(id)).secret;
    } finally {
      await database.close();
    }
    const hubPassword = newSecret();
    const broker = await startMosquitto(mosquitto, { [HUB_USER]: hubPassword, ...secrets });
    const cluster = new FaultCluster(options, dir, databaseUrl, broker, hubPassword);
    const hubConfig = join(dir, 'hub.json');
    writeFileSync(hubConfig, JSON.stringify(options.hubConfig ?? FAULT_HUB_CONFIG));
    for (let i = 0; i < (options.replicas ?? 2); i++) {
      const name = `${options.name}-${i}`;
      const dataDir = join(dir, `hub-${i}`);
      mkdirSync(dataDir);
      cluster.replicas.push(
        new ReplicaProcess(
          name,
          {
            DATABASE_URL: databaseUrl,
            ROADWATCH_HUB_DATA: dataDir,
            ROADWATCH_HUB_HOST: '127.0.0.1',
            ROADWATCH_HUB_HTTP_PORT: '0',
            ROADWATCH_HUB_LOG_LEVEL: 'info',
            ROADWATCH_HUB_MQTT_URL: broker.hubUrl,
            ROADWATCH_HUB_MQTT_USERNAME: HUB_USER,
            ROADWATCH_HUB_MQTT_PASSWORD: hubPassword,
            ROADWATCH_HUB_MQTT_CLIENT_ID: `hub-${name}`,
          },
          hubConfig,
        ),
      );
    }
    for (const id of options.devices) {
      const dataDir = join(dir, `agent-${id}`);
      cluster.vehicles.set(id, { deviceId: id, secret: secrets[id]!, dataDir, feeder: null, agent: null });
    }
    return cluster;
  }

  async startReplicas(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.start()));
  }

  vehicle(id: string): Vehicle {
    const v = this.vehicles.get(id);
    if (!v) throw new Error(`no vehicle ${id}`);
    return v;
  }

  /** Opens the vehicle's outbox for writing (the feeder); once per vehicle. */
  openFeeder(id: string, options: Omit<FeederOptions, 'dataDir' | 'seed'> & { seed?: number } = {}): OutboxFeeder {
    const v = this.vehicle(id);
    v.feeder = new OutboxFeeder({ dataDir: v.dataDir, seed: options.seed ?? hash(`${this.options.name}/${id}`), ...options });
    return v.feeder;
  }

  /** `roadwatch run` for the vehicle, to the broker's vehicle listener or `hubUrl` (a proxy). */
  startAgent(id: string, options: { hubUrl?: string; env?: NodeJS.ProcessEnv } = {}): ManagedProcess {
    const v = this.vehicle(id);
    const env: NodeJS.ProcessEnv = {
      ROADWATCH_DEVICE_ID: id,
      ROADWATCH_DEVICE_SECRET: v.secret,
      ROADWATCH_HUB_URL: options.hubUrl ?? this.broker.deviceUrl,
      ROADWATCH_DATA: v.dataDir,
      ROADWATCH_LOG_LEVEL: 'info',
      ...options.env,
    };
    v.agent = spawnNode(AGENT_BIN, ['run', '--config', this.agentConfigFile], env, `agent ${id}`);
    return v.agent;
  }

  /** Every feeder's events (eventIds), the ones evicted from its outbox excluded by the caller. */
  producedIds(): string[] {
    return [...this.vehicles.values()].flatMap((v) => (v.feeder ? v.feeder.produced.map((e) => e.eventId) : []));
  }

  async storedCount(): Promise<number> {
    return this.query<{ n: number }>('select count(*)::int as n from detections').then((rows) => rows[0]!.n);
  }

  async query<T extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    await client.connect();
    try {
      return (await client.query<T>(text, params)).rows;
    } finally {
      await client.end();
    }
  }

  /** Waits until detections grew by at least `by` rows from now: ingest makes progress. */
  async progress(by: number, what: string, timeoutMs = 60_000): Promise<number> {
    const start = await this.storedCount();
    return waitUntil(async () => ((await this.storedCount()) >= start + by ? this.storedCount() : false), `${what} (${by} more detections than ${start})`, timeoutMs, 250);
  }

  /** Stops the feeders and waits until every running agent's outbox is empty (everything acked). */
  async drain(timeoutMs = 90_000): Promise<void> {
    for (const v of this.vehicles.values()) await v.feeder?.stop();
    await waitUntil(
      () => [...this.vehicles.values()].every((v) => outboxDepth(v.dataDir) === 0),
      `the agents' outboxes to drain (depths ${[...this.vehicles.values()].map((v) => `${v.deviceId}=${outboxDepth(v.dataDir)}`).join(' ')})`,
      timeoutMs,
      250,
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\ndepths now: ${[...this.vehicles.values()].map((v) => `${v.deviceId}=${outboxDepth(v.dataDir)}`).join(' ')}\n${this.tails()}`);
    });
  }

  tails(): string {
    return [...this.replicas.map((r) => r.tail()), ...[...this.vehicles.values()].map((v) => (v.agent ? `--- ${v.agent.name}\n${v.agent.tail(15)}` : ''))].join('\n');
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.vehicles.values()].map(async (v) => {
      await v.agent?.kill('SIGTERM', 10_000);
      await v.feeder?.close();
    }));
    await Promise.all(this.replicas.map((r) => r.stop().catch(() => undefined)));
    await this.broker.dispose();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
