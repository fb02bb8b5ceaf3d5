import { request as httpRequest, type IncomingHttpHeaders, type RequestOptions } from 'node:http';
import { resolve } from 'node:path';
import { UserError } from '@roadwatch/shared';
import { controlEndpoint, type ControlConfig, type ControlEndpoint } from './endpoint.js';
import type { AgentStatus } from './status.js';

export const START_HINT = 'start it with systemctl start roadwatch-agent';

/** The service does not run (nothing answers on its control endpoint). */
export class ServiceNotRunning extends UserError {
  constructor(readonly why: string) {
    super(`the roadwatch service is not running (${why})`, START_HINT);
  }
}

export interface ControlResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Talks to the running service's control endpoint (CLI side). */
export class ControlClient {
  constructor(
    readonly endpoint: ControlEndpoint,
    private readonly timeoutMs = 5_000,
  ) {}

  static forConfig(config: ControlConfig, timeoutMs?: number): ControlClient {
    return new ControlClient(controlEndpoint(config), timeoutMs);
  }

  /** `GET /status`, or null when the service does not run. Other problems (permission denied) throw. */
  async statusIfRunning(): Promise<AgentStatus | null> {
    try {
      return await this.json<AgentStatus>('GET', '/status');
    } catch (error) {
      if (error instanceof ServiceNotRunning) return null;
      throw error;
    }
  }

  /** A JSON route; a non-2xx answer (except 503 from /health) throws a UserError with the service's message. */
  async json<T>(method: 'GET' | 'POST', path: string, options: { timeoutMs?: number; okStatuses?: number[] } = {}): Promise<T> {
    const res = await this.request(method, path, options);
    const ok = (res.status >= 200 && res.status < 300) || (options.okStatuses ?? []).includes(res.status);
    let body: unknown;
    try {
      body = JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new UserError(`the service answered ${method} ${path} with ${res.status} and no JSON`, 'is another program listening on the control endpoint?');
    }
    if (!ok) throw new UserError(`the service refused ${method} ${path}: ${(body as { error?: { message?: string } }).error?.message ?? `HTTP ${res.status}`}`);
    return body as T;
  }

  request(method: string, path: string, options: { timeoutMs?: number } = {}): Promise<ControlResponse> {
    return new Promise((resolvePromise, reject) => {
      const req = httpRequest({ ...this.target(), method, path, timeout: options.timeoutMs ?? this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', (error) => reject(this.explain(error)));
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      req.on('error', (error) => reject(this.explain(error)));
      req.end();
    });
  }

  /**
   * Reads a newline-delimited stream (`/gps/stream`) until the service ends it or `signal` aborts.
   * Resolves with how it ended.
   */
  stream(path: string, onLine: (line: string) => void, signal: AbortSignal): Promise<'aborted' | 'ended'> {
    return new Promise((resolvePromise, reject) => {
      if (signal.aborted) return resolvePromise('aborted');
      const req = httpRequest({ ...this.target(), method: 'GET', path }, (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            let message = `HTTP ${res.statusCode}`;
            try {
              message = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error: { message: string } }).error.message;
            } catch {
              // keep the status
            }
            reject(new UserError(`the service cannot stream ${path}: ${message}`));
          });
          return;
        }
        let rest = '';
        res.setEncoding('utf8');
        res.on('data', (text: string) => {
          const lines = (rest + text).split('\n');
          rest = lines.pop() ?? '';
          for (const line of lines) if (line.trim() !== '') onLine(line);
        });
        res.on('end', () => resolvePromise(signal.aborted ? 'aborted' : 'ended'));
        res.on('error', () => resolvePromise(signal.aborted ? 'aborted' : 'ended'));
      });
      const abort = () => req.destroy();
      signal.addEventListener('abort', abort, { once: true });
      req.on('error', (error) => {
        signal.removeEventListener('abort', abort);
        if (signal.aborted) resolvePromise('aborted');
        else reject(this.explain(error));
      });
      req.on('close', () => {
        signal.removeEventListener('abort', abort);
        if (signal.aborted) resolvePromise('aborted');
      });
      req.end();
    });
  }

  private target(): RequestOptions {
    const e = this.endpoint;
    return e.kind === 'socket' ? { socketPath: e.path } : { host: e.host, port: e.port };
  }

  private explain(error: Error): Error {
    const code = (error as NodeJS.ErrnoException).code;
    const e = this.endpoint;
    if (e.kind === 'socket') {
      const path = resolve(e.path);
      if (code === 'ENOENT') return new ServiceNotRunning(`no control socket at ${path}`);
      if (code === 'ECONNREFUSED') return new ServiceNotRunning(`the control socket ${path} does not answer: the service stopped without removing it`);
      if (code === 'EACCES') return new UserError(`permission denied on the control socket ${path}`, 'run as the service user (sudo -u roadwatch …) or join its group: the socket is mode 0660');
    } else if (code === 'ECONNREFUSED') {
      return new ServiceNotRunning(`nothing answers on control port ${e.host}:${e.port}`);
    }
    if (code === 'ETIMEDOUT') return new UserError(`the service did not answer on its control endpoint within ${this.timeoutMs / 1000} s`, 'it may be overloaded; see journalctl -u roadwatch-agent');
    return new UserError(`cannot reach the service's control endpoint: ${error.message}`);
  }
}
