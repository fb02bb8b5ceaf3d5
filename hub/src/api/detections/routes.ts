import { Hono } from 'hono';
import type { DetectionPage, DetectionQuery } from '../../services/ports.js';
import type { AppEnv } from '../env.js';
import { parseQuery } from '../query.js';
import { DetectionsQuerySchema } from './spec.js';

export { DetectionsQuerySchema } from './spec.js';
export { DEFAULT_LIMIT, MAX_LIMIT } from '../query.js';

export interface DetectionRoutesOptions {
  detections: DetectionQuery;
}

/**
 * `GET /api/v1/detections?from&to&class&deviceId&bbox&minConfidence&limit&cursor&format`: newest first,
 * keyset-paginated (`nextCursor` is null on the last page); `format=geojson` is a FeatureCollection.
 */
export function detectionRoutes({ detections }: DetectionRoutesOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/api/v1/detections', async (c) => {
    const { format, class: classes, ...q } = parseQuery(c, DetectionsQuerySchema);
    // A bad cursor throws the service's InvalidCursorError (a UserError): 400 invalid_cursor.
    const page = await detections.list({ ...q, classes });
    if (format === 'geojson') return c.body(JSON.stringify(toFeatureCollection(page)), 200, { 'Content-Type': 'application/geo+json' });
    return c.json(page);
  });
  return app;
}

/** GeoJSON (RFC 7946): one Point per detection, [lon, lat]; nextCursor as a foreign member. */
export function toFeatureCollection(page: DetectionPage) {
  return {
    type: 'FeatureCollection' as const,
    features: page.items.map(({ lat, lon, ...properties }) => ({
      type: 'Feature' as const,
      id: properties.eventId,
      geometry: { type: 'Point' as const, coordinates: [lon, lat] as [number, number] },
      properties,
    })),
    nextCursor: page.nextCursor,
  };
}
