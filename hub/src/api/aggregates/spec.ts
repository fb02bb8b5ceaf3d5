import { z } from 'zod';
import { component, type ApiOperation } from '../openapi/operation.js';
import { bboxParam, deviceIdParam, enumParam, intParam, limitParam, nameListParam, offsetParam, querySchema, timeParam } from '../query.js';

/** Longest [from, to) range one request may ask for. */
export const MAX_RANGE_DAYS = 366;
export const HOURLY_DEFAULT_DAYS = 1;
export const CELLS_DEFAULT_DAYS = 7;

const range = (defaultDays: number) => ({
  from: timeParam('from', `Start of the event-time range (inclusive, rounded down to the hour). Default: \`to\` minus ${defaultDays === 1 ? '24 hours' : `${defaultDays} days`}.`),
  to: timeParam('to', `End of the event-time range (exclusive). Default: now. At most ${MAX_RANGE_DAYS} days after \`from\`.`),
});
const classes = nameListParam('class', 'Only these damage classes (comma-separated or repeated), e.g. D40,D20.', 'D40');

export const HourlyQuerySchema = querySchema({
  ...range(HOURLY_DEFAULT_DAYS),
  deviceId: deviceIdParam('Only this vehicle.'),
  class: classes,
  limit: limitParam('rows'),
  offset: offsetParam('rows'),
});

export const CellsQuerySchema = querySchema({
  ...range(CELLS_DEFAULT_DAYS),
  class: classes,
  bbox: bboxParam('Only cells that overlap this box: minLon,minLat,maxLon,maxLat (WGS84 degrees).'),
  resolution: intParam('resolution', {
    min: 0,
    max: 15,
    fallback: undefined,
    description: 'H3 resolution of the cells, from 0 (coarsest) to the hub’s aggregates.h3Resolution (default, and the finest available; 9 unless configured).',
  }),
  minEvents: intParam('minEvents', { min: 1, max: 1_000_000_000, fallback: 1, description: 'Only cells with at least this many events (default 1).' }),
  minDevices: intParam('minDevices', { min: 1, max: 1_000_000, fallback: 1, description: 'Only cells where at least this many distinct vehicles found something (default 1).' }),
  limit: limitParam('cells'),
  offset: offsetParam('cells'),
  format: enumParam('format', ['json', 'geojson'], 'json', 'json (default) or geojson: a FeatureCollection of cell polygons (application/geo+json).'),
});

const time = z.iso.datetime();
const page = { limit: z.number().int(), offset: z.number().int(), nextOffset: z.number().int().nullable().meta({ description: 'offset of the next page; null on the last page.' }) };

export const HourlyRowSchema = component(
  'HourlyRow',
  z.object({
    hour: time.meta({ description: 'Start of the UTC hour (event time).' }),
    deviceId: z.string(),
    class: z.string(),
    events: z.number().int(),
    avgConfidence: z.number(),
    maxConfidence: z.number(),
  }),
);

export const HourlyPageSchema = component(
  'HourlyPage',
  z.object({ from: time, to: time, items: z.array(HourlyRowSchema).meta({ description: 'Oldest hour first, then device, then class.' }), ...page }),
);

export const CellRowSchema = component(
  'CellRow',
  z.object({
    cell: z.string().meta({ description: 'H3 cell index (hex).' }),
    resolution: z.number().int(),
    events: z.number().int(),
    devices: z.number().int().meta({ description: 'Distinct vehicles with events in the cell.' }),
    lat: z.number().meta({ description: 'Centre of the cell.' }),
    lon: z.number(),
  }),
);

export const CellPageSchema = component(
  'CellPage',
  z.object({
    from: time,
    to: time,
    resolution: z.number().int(),
    items: z.array(CellRowSchema).meta({ description: 'Most events first, then most vehicles, then cell.' }),
    ...page,
  }),
);

export const CellFeatureCollectionSchema = component(
  'CellFeatureCollection',
  z.object({
    type: z.literal('FeatureCollection'),
    features: z.array(
      z.object({
        type: z.literal('Feature'),
        id: z.string(),
        geometry: z.object({ type: z.literal('Polygon'), coordinates: z.array(z.array(z.tuple([z.number(), z.number()]))) }),
        properties: z.object({ cell: z.string(), resolution: z.number().int(), events: z.number().int(), devices: z.number().int() }),
      }),
    ),
    from: time,
    to: time,
    resolution: z.number().int(),
    nextOffset: z.number().int().nullable(),
  }),
  'format=geojson: the cells as polygons ([lon, lat] rings), with the page fields as foreign members.',
);

export const aggregateOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/api/v1/aggregates/hourly',
    operationId: 'hourlyAggregates',
    tag: 'aggregates',
    summary: 'Events per hour, vehicle and class',
    description: 'From the hourly rollups (agg_hourly_device): counts and confidence per UTC hour of event time, vehicle and class. A duplicate event is never counted twice.',
    access: 'read',
    query: HourlyQuerySchema,
    responses: { 200: { description: 'A page of hourly rows.', schema: HourlyPageSchema } },
  },
  {
    method: 'get',
    path: '/api/v1/aggregates/cells',
    operationId: 'cellAggregates',
    tag: 'aggregates',
    summary: 'Hotspots: events per H3 cell',
    description:
      'From the cell rollups (agg_daily_cell for whole UTC days, agg_hourly_cell for the hours at either end): events and distinct vehicles per H3 cell over the range, most events first; answers are kept until the rollups change. With bbox, only the cells overlapping the box (a box covering more than 20000 cells at the resolution is a 400 naming a coarser resolution that fits).',
    access: 'read',
    query: CellsQuerySchema,
    responses: {
      200: {
        description: 'A page of cells (format=geojson: a FeatureCollection, application/geo+json).',
        schema: CellPageSchema,
        also: [{ contentType: 'application/geo+json', schema: CellFeatureCollectionSchema }],
      },
    },
  },
];
