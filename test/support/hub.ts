import { randomBytes } from 'node:crypto';
import { HUB_BIN, ManagedProcess, runNode, spawnNode } from './processes.js';

export interface HubOptions {
  dataDir: string;
  databaseUrl: string | undefined;
  httpPort?: number;
  mqttPort?: number;
  env?: NodeJS.ProcessEnv;
}

/** A real `roadwatch-hub serve` process; restarts reuse the ports it first picked. */
export class HubProcess {
  proc!: ManagedProcess;
  httpPort = 0;
  mqttPort = 0;
  private apiToken: Promise<string> | null = null;

  constructor(private readonly options: HubOptions) {
    this.httpPort = options.httpPort ?? 0;
    this.mqttPort = options.mqttPort ?? 0;
  }

  get env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      ROADWATCH_HUB_DATA: this.options.dataDir,
      ROADWATCH_HUB_HOST: '127.0.0.1',
      ROADWATCH_HUB_HTTP_PORT: String(this.httpPort),
      ROADWATCH_HUB_MQTT_PORT: String(this.mqttPort),
      ROADWATCH_HUB_LOG_LEVEL: 'info',
      ...this.options.env,
    };
    if (this.options.databaseUrl) env.DATABASE_URL = this.options.databaseUrl;
    else delete env.DATABASE_URL;
    return env;
  }

  get mqttUrl(): string {
    return `mqtt://127.0.0.1:${this.mqttPort}`;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  async start(): Promise<this> {
    const env = this.env;
    if (!this.options.databaseUrl) env.DATABASE_URL = '';
    this.proc = spawnNode(HUB_BIN, ['serve'], env, 'hub');
    const mqtt = await this.proc.waitForLog((l) => l.msg === 'mqtt listening');
    const http = await this.proc.waitForLog((l) => l.msg === 'http listening');
    this.mqttPort = Number(mqtt.port);
    this.httpPort = Number(http.port);
    return this;
  }

  async stop(): Promise<void> {
    if (this.proc?.running) await this.proc.kill('SIGTERM');
  }

  async kill9(): Promise<void> {
    if (this.proc?.running) await this.proc.kill('SIGKILL');
  }

  async addDevice(deviceId: string): Promise<{ deviceId: string; secret: string }> {
    const env = this.env;
    if (!this.options.databaseUrl) env.DATABASE_URL = '';
    const result = await runNode(HUB_BIN, ['devices', 'add', deviceId, '--json'], env);
    if (result.code !== 0) throw new Error(`devices add failed (${result.code}): ${result.stderr}${result.stdout}`);
    return JSON.parse(result.stdout.trim().split('\n').pop()!) as { deviceId: string; secret: string };
  }

  /**
   * A `read` API token for the REST API, made with `roadwatch-hub tokens create` the first time it is
   * needed (through the running hub's admin API with PGlite). It lives in the database, so it
   * survives restarts of this hub.
   */
  readToken(): Promise<string> {
    this.apiToken ??= this.createToken('read').catch((error: unknown) => {
      this.apiToken = null;
      throw error;
    });
    return this.apiToken;
  }

  async createToken(scope: 'read' | 'ack' | 'admin', name = `e2e-${scope}-${randomBytes(4).toString('hex')}`): Promise<string> {
    const env = this.env;
    if (!this.options.databaseUrl) env.DATABASE_URL = '';
    const result = await runNode(HUB_BIN, ['tokens', 'create', '--name', name, '--scope', scope, '--json'], env);
    if (result.code !== 0) throw new Error(`tokens create failed (${result.code}): ${result.stderr}${result.stdout}`);
    return (JSON.parse(result.stdout.trim().split('\n').pop()!) as { token: string }).token;
  }

  /** GET with the read token (`Authorization: Bearer …`). */
  async get<T = unknown>(path: string): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.httpUrl}${path}`, { headers: { Authorization: `Bearer ${await this.readToken()}` } });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }
}

export interface StoredDetection {
  eventId: string;
  deviceId: string;
  seq: number;
  class: string;
  lat: number;
  lon: number;
}

/** Walks `GET /api/v1/detections` page by page (keyset cursor) and returns every row. */
export async function fetchAllDetections(hub: HubProcess, limit = 1000): Promise<StoredDetection[]> {
  const all: StoredDetection[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `/api/v1/detections?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const { status, body } = await hub.get<{ items: StoredDetection[]; nextCursor: string | null }>(query);
    if (status !== 200) throw new Error(`GET ${query} → ${status}: ${JSON.stringify(body)}`);
    all.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor);
  return all;
}
