import { MAX_PAYLOAD_BYTES } from '@roadwatch/shared';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Diagnostics } from '../services/diagnostics.js';
import type { BatchIngest, DetectionQuery, DeviceRegistry } from '../services/ports.js';
import type { TokenAdmin, TokenVerifier } from '../services/tokens.js';
import { applyAccessControl, type AccessOptions } from './access.js';
import { adminRoutes } from './admin/routes.js';
import { aggregateRoutes, type AggregateRoutesOptions } from './aggregates/routes.js';
import { alarmRoutes, type AlarmRoutesOptions } from './alarms/routes.js';
import { detectionRoutes } from './detections/routes.js';
import { deviceRoutes, type DeviceRoutesOptions } from './devices/routes.js';
import type { AppEnv } from './env.js';
import { createErrorHandler, notFoundHandler } from './errors.js';
import { healthRoutes, type Readiness } from './health/routes.js';
import { meRoutes } from './me/routes.js';
import { httpMetrics } from './metrics/http-metrics.js';
import { metricsRoutes } from './metrics/routes.js';
import { requestId } from './middleware/request-id/index.js';
import { openApiRoutes } from './openapi/routes.js';
import { uplinkRoutes } from './uplink/routes.js';
import { webDashboard, type WebDashboardOptions } from './web/dashboard.js';

/** The services behind the fleet-manager REST API (alarms, aggregates, devices). */
export interface FleetApiServices {
  alarms: AlarmRoutesOptions['alarms'];
  aggregates: AggregateRoutesOptions['aggregates'];
  deviceViews: DeviceRoutesOptions['devices'];
}

export interface CreateAppOptions {
  services: { detections: DetectionQuery; devices: Pick<DeviceRegistry, 'add' | 'list' | 'verify'>; tokens: TokenVerifier & TokenAdmin; ingest: BatchIngest } & FleetApiServices;
  readiness: () => Readiness | Promise<Readiness>;
  registry: Registry;
  adminToken: string;
  logger: Logger;
  /** IP allowlist, proxies, CORS, rate limit, metrics token (the hub config has these keys); none → open addresses, no CORS, 600/min. */
  access?: AccessOptions;
  /** HTTPS device uplink: uplink.maxBodyBytes (default 1 MiB) and whether new batches are taken (false while stopping). */
  uplink?: { maxBodyBytes: number; accepting?: () => boolean };
  /** GET /health/diagnostics (admin token); absent → no such route. */
  diagnostics?: () => Promise<Diagnostics>;
  /** The fleet dashboard at `/` (hub/web, built into hub/dist/web): its directory and the basemap (config `map.*`). */
  web?: Omit<WebDashboardOptions, 'logger'>;
}

/** The hub's HTTP API: health, metrics, the REST API (alarms, detections, aggregates, devices), its OpenAPI document, the uplink and the admin endpoints, with one error envelope. */
export function createApp({ services, readiness, registry, adminToken, logger, access, uplink, diagnostics, web }: CreateAppOptions): Hono<AppEnv> {
  const log = logger.child({ component: 'http' });
  const app = new Hono<AppEnv>();
  app.use(requestId());
  app.use(httpMetrics({ registry }));
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    log.debug({ requestId: c.get('requestId'), method: c.req.method, path: c.req.path, status: c.res.status, token: c.get('token')?.name, client: c.get('clientAddress'), ms: Math.round(performance.now() - started) }, 'request');
  });
  applyAccessControl(app, services.tokens, access);
  app.use(webDashboard({ ...web, logger: log })); // GET/HEAD of the dashboard's files only; everything else passes on
  app.route('/', healthRoutes({ readiness, diagnostics }));
  app.route('/', metricsRoutes({ registry }));
  app.route('/', detectionRoutes({ detections: services.detections }));
  app.route('/', alarmRoutes({ alarms: services.alarms }));
  app.route('/', deviceRoutes({ devices: services.deviceViews }));
  app.route('/', aggregateRoutes({ aggregates: services.aggregates }));
  app.route('/', meRoutes());
  app.route('/', openApiRoutes());
  app.route('/', uplinkRoutes({ ingest: services.ingest, devices: services.devices, maxBodyBytes: uplink?.maxBodyBytes ?? MAX_PAYLOAD_BYTES, accepting: uplink?.accepting, registry, logger }));
  app.route('/', adminRoutes({ devices: services.devices, tokens: services.tokens, adminToken }));
  app.notFound(notFoundHandler);
  app.onError(createErrorHandler(log));
  return app;
}
