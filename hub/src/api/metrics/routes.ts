import { Hono } from 'hono';
import type { Registry } from 'prom-client';
import type { AppEnv } from '../env.js';

export interface MetricsRoutesOptions {
  registry: Registry;
}

/** `GET /metrics`: Prometheus text exposition of the injected registry. */
export function metricsRoutes({ registry }: MetricsRoutesOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/metrics', async (c) => c.body(await registry.metrics(), 200, { 'Content-Type': registry.contentType }));
  return app;
}
