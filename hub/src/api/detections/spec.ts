import { z } from 'zod';
import { component, type ApiOperation } from '../openapi/operation.js';
import { bboxParam, deviceIdParam, enumParam, limitParam, nameListParam, numberParam, opaqueParam, querySchema, timeParam } from '../query.js';

export const DetectionsQuerySchema = querySchema({
  from: timeParam('from', 'Only events at or after this time (event time, inclusive).'),
  to: timeParam('to', 'Only events before this time (exclusive).'),
  class: nameListParam('class', 'Only these damage classes (comma-separated or repeated), e.g. D40,D20.', 'D40'),
  deviceId: deviceIdParam('Only this vehicle.'),
  bbox: bboxParam('Only events inside this box: minLon,minLat,maxLon,maxLat (WGS84 degrees, edges included).'),
  minConfidence: numberParam('minConfidence', { min: 0, max: 1, description: 'Only events with at least this confidence (0–1).', example: '0.6' }),
  limit: limitParam('detections'),
  cursor: opaqueParam('cursor', 'nextCursor of the previous page, unchanged (with the same filters); omit for the newest.', 'omit it for the first page'),
  format: enumParam('format', ['json', 'geojson'], 'json', 'json (default) or geojson: a FeatureCollection of points (application/geo+json) with nextCursor beside the features.'),
});

const time = z.iso.datetime();

export const DetectionSchema = component(
  'Detection',
  z.object({
    id: z.string().meta({ description: 'Hub row id (a 64-bit integer as text).' }),
    eventId: z.string().meta({ description: 'UUIDv7 made on the vehicle: the idempotency key.' }),
    deviceId: z.string(),
    seq: z.number().int(),
    ts: time.meta({ description: 'Event time.' }),
    clock: z.string().meta({ description: 'gps, system or unsynced: where ts came from.' }),
    lat: z.number(),
    lon: z.number(),
    accuracyM: z.number().nullable(),
    speedKmh: z.number().nullable(),
    headingDeg: z.number().nullable(),
    class: z.string(),
    confidence: z.number(),
    hits: z.number().int().meta({ description: 'Frames the defect was seen in.' }),
    bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]).nullable().meta({ description: 'Box in the best frame, pixels [x1, y1, x2, y2].' }),
    frame: z.object({ w: z.number().int(), h: z.number().int() }).nullable(),
    model: z.string().nullable(),
    receivedAt: time,
  }),
  'One road-damage event as the hub stored it.',
);

export const DetectionPageSchema = component(
  'DetectionPage',
  z.object({
    items: z.array(DetectionSchema).meta({ description: 'Newest first (ts, then id).' }),
    nextCursor: z.string().nullable().meta({ description: 'Pass as cursor for the next page; null on the last page.' }),
  }),
);

export const DetectionFeatureCollectionSchema = component(
  'DetectionFeatureCollection',
  z.object({
    type: z.literal('FeatureCollection'),
    features: z.array(
      z.object({
        type: z.literal('Feature'),
        id: z.string().meta({ description: 'The eventId.' }),
        geometry: z.object({ type: z.literal('Point'), coordinates: z.tuple([z.number(), z.number()]).meta({ description: '[lon, lat]' }) }),
        properties: DetectionSchema.omit({ lat: true, lon: true }),
      }),
    ),
    nextCursor: z.string().nullable(),
  }),
  'format=geojson: the detections as points, newest first, with nextCursor as a foreign member.',
);

export const detectionOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/api/v1/detections',
    operationId: 'listDetections',
    tag: 'detections',
    summary: 'List detections',
    description:
      'Road-damage events, newest first, keyset-paginated: pass nextCursor back as cursor (with the same filters) until it is null; deep pages are as fast as the first. Filters combine with AND.',
    access: 'read',
    query: DetectionsQuerySchema,
    responses: {
      200: {
        description: 'A page of detections (format=geojson: a FeatureCollection, application/geo+json).',
        schema: DetectionPageSchema,
        also: [{ contentType: 'application/geo+json', schema: DetectionFeatureCollectionSchema }],
      },
    },
  },
];
