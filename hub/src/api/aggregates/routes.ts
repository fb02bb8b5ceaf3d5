import { cellToBoundary } from 'h3-js';
import { Hono } from 'hono';
import type { AggregatesService } from '../../services/aggregates.js';
import { cellCenter } from '../../services/geo.js';
import type { AppEnv } from '../env.js';
import { ApiError } from '../errors.js';
import { parseQuery } from '../query.js';
import { CELLS_DEFAULT_DAYS, CellsQuerySchema, HOURLY_DEFAULT_DAYS, HourlyQuerySchema, MAX_RANGE_DAYS } from './spec.js';

export interface AggregateRoutesOptions {
  aggregates: Pick<AggregatesService, 'hourly' | 'cells' | 'h3Resolution'>;
  /** "Now", for the default range. */
  clock?: () => Date;
}

const DAY_MS = 86_400_000;

/** `GET /api/v1/aggregates/hourly` and `GET /api/v1/aggregates/cells` (hotspots), from the rollups (read scope). */
export function aggregateRoutes({ aggregates, clock = () => new Date() }: AggregateRoutesOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/api/v1/aggregates/hourly', async (c) => {
    const q = parseQuery(c, HourlyQuerySchema);
    const { from, to } = timeRange(q.from, q.to, HOURLY_DEFAULT_DAYS, clock);
    // One row more than asked tells whether there is a next page.
    const rows = await aggregates.hourly({ from, to, deviceId: q.deviceId, class: q.class, limit: q.limit + 1, offset: q.offset });
    const items = rows.slice(0, q.limit);
    const nextOffset = rows.length > q.limit ? q.offset + q.limit : null;
    return c.json({ from: from.toISOString(), to: to.toISOString(), items, limit: q.limit, offset: q.offset, nextOffset });
  });

  app.get('/api/v1/aggregates/cells', async (c) => {
    const q = parseQuery(c, CellsQuerySchema);
    const { from, to } = timeRange(q.from, q.to, CELLS_DEFAULT_DAYS, clock);
    // A resolution finer than the stored one, or a bbox covering too many cells, is the service's InvalidRequestError: 400.
    const rows = await aggregates.cells({
      from,
      to,
      class: q.class,
      bbox: q.bbox,
      resolution: q.resolution,
      minEvents: q.minEvents,
      minDevices: q.minDevices,
      limit: q.limit + 1,
      offset: q.offset,
    });
    const nextOffset = rows.length > q.limit ? q.offset + q.limit : null;
    const resolution = q.resolution ?? aggregates.h3Resolution;
    const head = { from: from.toISOString(), to: to.toISOString(), resolution };
    if (q.format === 'geojson') {
      const features = once(geojsonOf, rows, () =>
        rows.slice(0, q.limit).map((r) => ({
          type: 'Feature' as const,
          id: r.cell,
          geometry: { type: 'Polygon' as const, coordinates: [cellToBoundary(r.cell, true)] },
          properties: { cell: r.cell, resolution: r.resolution, events: r.events, devices: r.devices },
        })),
      );
      return c.body(JSON.stringify({ type: 'FeatureCollection', features, ...head, nextOffset }), 200, { 'Content-Type': 'application/geo+json' });
    }
    const items = once(itemsOf, rows, () => rows.slice(0, q.limit).map((r) => ({ ...r, ...cellCenter(r.cell) })));
    return c.json({ ...head, items, limit: q.limit, offset: q.offset, nextOffset });
  });
  return app;
}

/**
 * The page built from one answer of AggregatesService.cells, made once per answer: the service hands the
 * same array out again while it is current (a month over a city is 1,000 cells, and their centres or
 * polygons cost more than the rest of the request). An answer is for one limit and offset, so it always
 * makes the same page.
 */
const itemsOf = new WeakMap<object, unknown[]>();
const geojsonOf = new WeakMap<object, unknown[]>();

function once<T>(memo: WeakMap<object, unknown[]>, answer: object, make: () => T[]): T[] {
  let made = memo.get(answer) as T[] | undefined;
  if (!made) memo.set(answer, (made = make()));
  return made;
}

/** [from, to) with the defaults (to = now, from = to − defaultDays), checked for order and length. */
function timeRange(from: Date | undefined, to: Date | undefined, defaultDays: number, clock: () => Date): { from: Date; to: Date } {
  const end = to ?? clock();
  const start = from ?? new Date(end.getTime() - defaultDays * DAY_MS);
  if (start.getTime() >= end.getTime()) {
    throw new ApiError(400, 'invalid_request', `invalid query: from (${start.toISOString()}) must be before to (${end.toISOString()}); swap them or widen the range`);
  }
  if (end.getTime() - start.getTime() > MAX_RANGE_DAYS * DAY_MS) {
    throw new ApiError(400, 'invalid_request', `invalid query: the range from ${start.toISOString()} to ${end.toISOString()} is longer than ${MAX_RANGE_DAYS} days; split it into several requests`);
  }
  return { from: start, to: end };
}
