import { UserError } from '@roadwatch/shared';
import type { AdminFile } from '../api/admin/admin-file.js';
import type { DeviceCredentials, DeviceSummary } from '../services/ports.js';
import type { CreatedToken, TokenAdmin, TokenScope, TokenSummary } from '../services/tokens.js';

/** Talks to a running `serve` through its admin API (what admin.json points at). */
export class AdminClient {
  constructor(
    private readonly admin: AdminFile,
    private readonly timeoutMs = 10_000,
  ) {}

  /** True when the server in admin.json answers its liveness probe. */
  async answers(probeTimeoutMs = 2_000): Promise<boolean> {
    try {
      const res = await fetch(new URL('/health', this.admin.url), { signal: AbortSignal.timeout(probeTimeoutMs) });
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    }
  }

  add(deviceId: string, options: { rotate?: boolean } = {}): Promise<DeviceCredentials> {
    return this.request<DeviceCredentials>('POST', '/admin/v1/devices', { deviceId, rotate: options.rotate ?? false });
  }

  async list(): Promise<DeviceSummary[]> {
    return (await this.request<{ items: DeviceSummary[] }>('GET', '/admin/v1/devices')).items;
  }

  /** The API tokens, through `/admin/v1/tokens`. */
  readonly tokens: TokenAdmin = {
    create: (input: { name: string; scope: TokenScope }) => this.request<CreatedToken>('POST', '/admin/v1/tokens', input),
    list: async () => (await this.request<{ items: TokenSummary[] }>('GET', '/admin/v1/tokens')).items,
    revoke: (nameOrId: string) => this.request<TokenSummary>('DELETE', `/admin/v1/tokens/${encodeURIComponent(nameOrId)}`),
  };

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.admin.url), {
        method,
        headers: { Authorization: `Bearer ${this.admin.token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new UserError(`the running hub at ${this.admin.url} did not answer: ${(error as Error).message}`, 'check that roadwatch-hub serve is still running');
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    if (res.ok) return json as T;
    const message = (json as { error?: { message?: string } } | null)?.error?.message ?? `HTTP ${res.status}`;
    if (res.status === 401) {
      throw new UserError(`the running hub refused the admin token from admin.json: ${message}`, 'admin.json may belong to another hub; restart serve to rewrite it');
    }
    if (res.status >= 400 && res.status < 500) throw new UserError(message);
    throw new Error(`the running hub failed: ${message}`);
  }
}
