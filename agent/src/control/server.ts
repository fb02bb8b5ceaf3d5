import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { UserError } from '@roadwatch/shared';
import { frameToJpeg } from '../camera/jpeg.js';
import type { ControlApi } from './api.js';
import { MAX_SOCKET_PATH, describeEndpoint, type ControlEndpoint } from './endpoint.js';
import { openGpsStream } from './gps-stream.js';

/** Another service answers on the socket: two services on one data dir would fight over the hub connection. */
export class ControlInUseError extends UserError {
  constructor(path: string) {
    super(`another roadwatch service already answers on the control socket ${path}`, 'stop it first (systemctl stop roadwatch-agent), or give this one another data dir');
  }
}

/** Longest `POST /sync` wait the endpoint accepts. */
export const MAX_SYNC_WAIT_MS = 120_000;

export interface ControlServerOptions {
  api: ControlApi;
  endpoint: ControlEndpoint;
  logger: Logger;
  /** Unix socket mode (default 0660: the service user and its group). */
  socketMode?: number;
}

/**
 * The service's local control endpoint: a small HTTP server (node:http) on a unix socket (default
 * `<dataDir>/control.sock`, mode 0660) or on 127.0.0.1:port. Read-only except `POST /sync`.
 *
 * | route | answer |
 * | --- | --- |
 * | `GET /health` | 200 or 503, HealthReport |
 * | `GET /status` | AgentStatus |
 * | `GET /metrics` | Prometheus text |
 * | `POST /sync?waitMs=N` | SyncReport |
 * | `GET /gps/stream` | newline-delimited JSON while connected: hello, fix, sentence, status |
 * | `GET /camera/snapshot` | image/jpeg of the newest frame |
 */
export class ControlServer {
  private server: Server | null = null;
  private readonly streams = new Set<ServerResponse>();
  private readonly log: Logger;
  private listening = false;

  constructor(private readonly options: ControlServerOptions) {
    this.log = options.logger.child({ module: 'control' });
  }

  get endpoint(): ControlEndpoint {
    return this.options.endpoint;
  }

  /** Listens; a stale socket file from a crashed service is replaced, a live one (another service) is an error. */
  async start(): Promise<void> {
    if (this.server) return;
    const { endpoint } = this.options;
    if (endpoint.kind === 'socket') await prepareSocketPath(endpoint.path);
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('clientError', (_error, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new UserError(
            `cannot open the ${describeEndpoint(endpoint)}: ${error.code === 'EADDRINUSE' ? 'address in use' : error.message}`,
            endpoint.kind === 'tcp' ? 'pick another control.port (ROADWATCH_CONTROL_PORT)' : 'check control.socket (ROADWATCH_CONTROL_SOCKET) and that the service user may write to its folder',
          ),
        ),
      );
      if (endpoint.kind === 'socket') server.listen(endpoint.path, resolve);
      else server.listen(endpoint.port, endpoint.host, resolve);
    });
    if (endpoint.kind === 'socket') chmodSync(endpoint.path, this.options.socketMode ?? 0o660);
    this.server = server;
    this.listening = true;
    this.log.info({ endpoint: describeEndpoint(endpoint) }, 'control endpoint listening');
  }

  /** Ends open streams, closes the server and removes the socket file. Idempotent. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const res of this.streams) res.end();
    this.streams.clear();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    const { endpoint } = this.options;
    if (endpoint.kind === 'socket' && this.listening) {
      try {
        unlinkSync(endpoint.path);
      } catch {
        // already gone
      }
    }
    this.listening = false;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://roadwatch');
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    const { api } = this.options;
    try {
      switch (route) {
        case 'GET /health': {
          const health = api.health();
          return json(res, health.ok ? 200 : 503, health);
        }
        case 'GET /status':
          return json(res, 200, api.status());
        case 'GET /metrics': {
          const { contentType, body } = await api.metrics();
          res.writeHead(200, { 'content-type': contentType });
          res.end(body);
          return;
        }
        case 'POST /sync': {
          const raw = url.searchParams.get('waitMs') ?? '0';
          const waitMs = Number(raw);
          if (!/^\d+$/.test(raw) || waitMs > MAX_SYNC_WAIT_MS) return error(res, 400, 'invalid_request', `waitMs must be a whole number of milliseconds up to ${MAX_SYNC_WAIT_MS}`);
          return json(res, 200, await api.sync(waitMs));
        }
        case 'GET /gps/stream': {
          const gps = api.gps();
          if (!gps) return error(res, 503, 'no_gps', 'the service runs no GPS receiver (no camera configured, or the camera pipeline is off)');
          this.streams.add(res);
          res.on('close', () => this.streams.delete(res));
          openGpsStream(gps, req, res, this.log);
          return;
        }
        case 'GET /camera/snapshot': {
          const last = api.lastFrame();
          if (last.frame === null) return error(res, 503, 'no_frame', last.reason);
          const jpeg = await frameToJpeg(last.frame);
          res.writeHead(200, {
            'content-type': 'image/jpeg',
            'content-length': jpeg.length,
            'x-frame-seq': String(last.frame.seq),
            'x-frame-age-ms': String(Math.round(last.ageMs)),
            'x-frame-size': `${last.frame.width}x${last.frame.height}`,
          });
          res.end(jpeg);
          return;
        }
        default: {
          const known = ['/health', '/status', '/metrics', '/sync', '/gps/stream', '/camera/snapshot'].includes(url.pathname);
          return known ? error(res, 405, 'method_not_allowed', `${req.method} is not allowed on ${url.pathname}`) : error(res, 404, 'not_found', `no route ${url.pathname}`);
        }
      }
    } catch (err) {
      this.log.error({ err, route }, 'control request failed');
      if (!res.headersSent) error(res, 500, 'internal', (err as Error).message);
      else res.destroy();
    }
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function error(res: ServerResponse, status: number, code: string, message: string): void {
  json(res, status, { error: { code, message } });
}

/**
 * Makes room for the socket: refuses a path too long for a unix socket, a path that is not a
 * socket (never deletes a file by mistake) and a socket another service answers on; removes a stale
 * one (a service that crashed).
 */
async function prepareSocketPath(path: string): Promise<void> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new UserError(`control socket path ${path} is longer than ${MAX_SOCKET_PATH} bytes`, 'set control.socket (ROADWATCH_CONTROL_SOCKET) to a shorter path, e.g. /run/roadwatch/control.sock');
  }
  mkdirSync(dirname(path), { recursive: true });
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new UserError(`control socket path ${path} exists and is not a socket`, 'move the file away or set control.socket to another path');
  const live = await new Promise<boolean>((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
  if (live) throw new ControlInUseError(path);
  unlinkSync(path);
}
