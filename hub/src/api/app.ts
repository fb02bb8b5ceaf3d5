import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { DetectionQuery, DeviceRegistry } from '../services/ports.js';
import type { TokenAdmin, TokenVerifier } from '../services/tokens.js';
import { applyAccessControl, type AccessOptions } from './access.js';
import { adminRoutes } from './admin/routes.js';
import { detectionRoutes } from './detections/routes.js';
import type { AppEnv } from './env.js';
import { createErrorHandler, notFoundHandler } from './errors.js';
import { healthRoutes, type Readiness } from './health/routes.js';
import { metricsRoutes } from './metrics/routes.js';
import { requestId } from './middleware/request-id/index.js';

export interface CreateAppOptions {
  services: { detections: DetectionQuery; devices: Pick<DeviceRegistry, 'add' | 'list'>; tokens: TokenVerifier & TokenAdmin };
  readiness: () => Readiness | Promise<Readiness>;
  registry: Registry;
  adminToken: string;
  logger: Logger;
  /** IP allowlist, proxies, CORS, rate limit, metrics token (the hub config has these keys); none → open addresses, no CORS, 600/min. */
  access?: AccessOptions;
}

/** The hub's HTTP API: health, detections, metrics and the admin endpoints, with one error envelope. */
export function createApp({ services, readiness, registry, adminToken, logger, access }: CreateAppOptions): Hono<AppEnv> {
  const log = logger.child({ component: 'http' });
  const app = new Hono<AppEnv>();
  app.use(requestId());
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    log.debug({ requestId: c.get('requestId'), method: c.req.method, path: c.req.path, status: c.res.status, token: c.get('token')?.name, client: c.get('clientAddress'), ms: Math.round(performance.now() - started) }, 'request');
  });
  applyAccessControl(app, services.tokens, access);
  app.route('/', healthRoutes({ readiness }));
  app.route('/', metricsRoutes({ registry }));
  app.route('/', detectionRoutes({ detections: services.detections }));
  app.route('/', adminRoutes({ devices: services.devices, tokens: services.tokens, adminToken }));
  app.notFound(notFoundHandler);
  app.onError(createErrorHandler(log));
  return app;
}
