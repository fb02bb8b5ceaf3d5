import { join, resolve } from 'node:path';
import type { AgentConfig } from '../config/schema.js';

/** Where the service's control endpoint listens: a unix socket (default) or a loopback TCP port. */
export type ControlEndpoint = { kind: 'socket'; path: string } | { kind: 'tcp'; host: '127.0.0.1'; port: number };

/** The part of the config that places the endpoint (the field commands have no credentials). */
export interface ControlConfig {
  dataDir: string;
  control: AgentConfig['control'];
}

/** Unix socket paths longer than this do not fit in sockaddr_un (108 bytes with the NUL). */
export const MAX_SOCKET_PATH = 107;

/** `control.port` → 127.0.0.1:port; else `control.socket`, else `<dataDir>/control.sock`. */
export function controlEndpoint(config: ControlConfig): ControlEndpoint {
  if (config.control.port !== undefined) return { kind: 'tcp', host: '127.0.0.1', port: config.control.port };
  return { kind: 'socket', path: config.control.socket ?? join(config.dataDir, 'control.sock') };
}

/** For messages: `control socket /var/lib/roadwatch/control.sock`, `control port 127.0.0.1:7070`. */
export function describeEndpoint(endpoint: ControlEndpoint): string {
  return endpoint.kind === 'socket' ? `control socket ${resolve(endpoint.path)}` : `control port ${endpoint.host}:${endpoint.port}`;
}
