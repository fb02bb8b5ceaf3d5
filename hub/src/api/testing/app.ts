import { Registry } from 'prom-client';
import type { HubDatabase } from '../../db/client.js';
import { testLogger, type TestDatabase } from '../../db/testing/databases.js';
import { createServices, type Services } from '../../services/index.js';
import { createApp } from '../app.js';
import type { Readiness } from '../health/routes.js';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface TestApp {
  app: ReturnType<typeof createApp>;
  services: Services;
  database: HubDatabase;
  registry: Registry;
  readiness: Readiness;
  close(): Promise<void>;
}

/** The real app on real services over a fresh test database; `readiness` is mutable for health tests. */
export async function openTestApp(testDb: TestDatabase): Promise<TestApp> {
  const database = await testDb.open();
  const logger = testLogger();
  const registry = new Registry();
  const services = createServices({ database, logger, registry });
  const readiness: Readiness = { db: true, broker: true };
  const app = createApp({ services, readiness: () => ({ ...readiness }), registry, adminToken: TEST_ADMIN_TOKEN, logger });
  return { app, services, database, registry, readiness, close: () => database.close() };
}

export const adminHeaders = (token = TEST_ADMIN_TOKEN): Record<string, string> => ({
  Authorization: `Bearer ${token}`,
  'Content-Type': 'application/json',
});
