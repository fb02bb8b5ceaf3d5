import { Registry } from 'prom-client';
import type { HubDatabase } from '../../db/client.js';
import { testLogger, type TestDatabase } from '../../db/testing/databases.js';
import { createServices, type Services } from '../../services/index.js';
import type { TokenScope } from '../../services/tokens.js';
import type { AccessOptions } from '../access.js';
import { createApp, type CreateAppOptions } from '../app.js';
import type { Readiness } from '../health/routes.js';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface TestApp {
  app: ReturnType<typeof createApp>;
  services: Services;
  database: HubDatabase;
  registry: Registry;
  readiness: Readiness;
  /** One API token per scope, made at open (names `test-read`, `test-ack`, `test-admin`). */
  tokens: Record<TokenScope, string>;
  close(): Promise<void>;
}

/**
 * The real app on real services over a fresh test database; `readiness` is mutable for health tests.
 * `access` reaches createApp (IP allowlist, proxies, CORS, rate limit; `peerAddress` stands in for
 * the socket, which `app.request()` does not have).
 */
export async function openTestApp(
  testDb: TestDatabase,
  { access, uplink, web }: { access?: AccessOptions; uplink?: CreateAppOptions['uplink']; web?: CreateAppOptions['web'] } = {},
): Promise<TestApp> {
  const database = await testDb.open();
  const logger = testLogger();
  const registry = new Registry();
  const services = createServices({ database, logger, registry });
  const readiness: Readiness = { db: true, broker: true };
  const tokens = {} as Record<TokenScope, string>;
  for (const scope of ['read', 'ack', 'admin'] as const) tokens[scope] = (await services.tokens.create({ name: `test-${scope}`, scope })).token;
  const app = createApp({ services, readiness: () => ({ ...readiness }), registry, adminToken: TEST_ADMIN_TOKEN, logger, ...(access ? { access } : {}), ...(uplink ? { uplink } : {}), ...(web ? { web } : {}) });
  return { app, services, database, registry, readiness, tokens, close: () => database.close() };
}

export const adminHeaders = (token = TEST_ADMIN_TOKEN): Record<string, string> => ({
  Authorization: `Bearer ${token}`,
  'Content-Type': 'application/json',
});

/** `Authorization: Bearer <token>` for the REST API. */
export const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });
