import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { AppEnv } from '../env.js';

export const HTTP_DURATION_METRIC = 'roadwatch_hub_http_request_duration_seconds';
export const HTTP_IN_FLIGHT_METRIC = 'roadwatch_hub_http_requests_in_flight';
/** The `route` label of requests no route matched (404s, CORS preflights): never the raw path, which would grow without bound. */
export const UNMATCHED_ROUTE = 'unmatched';

function getOrCreate<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/**
 * The route pattern that answers a request (`/api/v1/devices/:deviceId/events`), also when a
 * middleware refused it first (401, 403, 429): the last matched route registered for a method,
 * as middleware is registered for ALL.
 */
export function routeLabel(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const route = routes[i]!;
    if (route.method !== 'ALL') return route.path;
  }
  return UNMATCHED_ROUTE;
}

/**
 * Times every request into `roadwatch_hub_http_request_duration_seconds{method,route,status}` (the
 * route pattern, not the path) and counts those being served in `roadwatch_hub_http_requests_in_flight`.
 * Register it first, so refusals by the access middleware are timed too.
 */
export function httpMetrics({ registry }: { registry: Registry }): MiddlewareHandler<AppEnv> {
  const registers = [registry];
  const duration = getOrCreate(
    registry,
    HTTP_DURATION_METRIC,
    () =>
      new Histogram({
        name: HTTP_DURATION_METRIC,
        help: 'HTTP requests by method, route pattern and status: time until the response is ready',
        labelNames: ['method', 'route', 'status'] as const,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers,
      }),
  );
  const inFlight = getOrCreate(registry, HTTP_IN_FLIGHT_METRIC, () => new Gauge({ name: HTTP_IN_FLIGHT_METRIC, help: 'HTTP requests being served now', registers }));
  return async (c, next) => {
    const started = performance.now();
    inFlight.inc();
    try {
      await next();
    } finally {
      inFlight.dec();
      duration.observe({ method: c.req.method, route: routeLabel(c), status: String(c.res.status) }, (performance.now() - started) / 1000);
    }
  };
}
