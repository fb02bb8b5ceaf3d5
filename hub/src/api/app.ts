import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { DetectionQuery, DeviceRegistry } from '../services/ports.js';
import { adminRoutes } from './admin/routes.js';
import { detectionRoutes } from './detections/routes.js';
import type { AppEnv } from './env.js';
import { createErrorHandler, notFoundHandler } from './errors.js';
import { healthRoutes, type Readiness } from './health/routes.js';
import { metricsRoutes } from './metrics/routes.js';

export interface CreateAppOptions {
  services: { detections: DetectionQuery; devices: Pick<DeviceRegistry, 'add' | 'list'> };
  readiness: () => Readiness | Promise<Readiness>;
  registry: Registry;
  adminToken: string;
  logger: Logger;
}

/** The hub's HTTP API: health, detections, metrics and the admin endpoints, with one error envelope. */
export function createApp({ services, readiness, registry, adminToken, logger }: CreateAppOptions): Hono<AppEnv> {
  const log = logger.child({ component: 'http' });
  const app = new Hono<AppEnv>();
  app.use(requestId());
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    log.debug({ requestId: c.get('requestId'), method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) }, 'request');
  });
  app.route('/', healthRoutes({ readiness }));
  app.route('/', metricsRoutes({ registry }));
  app.route('/', detectionRoutes({ detections: services.detections }));
  app.route('/', adminRoutes({ devices: services.devices, adminToken }));
  app.notFound(notFoundHandler);
  app.onError(createErrorHandler(log));
  return app;
}
