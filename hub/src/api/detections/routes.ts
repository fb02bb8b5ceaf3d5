import { Hono } from 'hono';
import { z } from 'zod';
import type { DetectionQuery } from '../../services/ports.js';
import type { AppEnv } from '../env.js';
import { parseOr400 } from '../validate.js';

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;

const LIMIT_MESSAGE = `limit must be an integer from 1 to ${MAX_LIMIT}`;

export const DetectionsQuerySchema = z.object({
  limit: z
    .string()
    .regex(/^\d+$/, LIMIT_MESSAGE)
    .transform(Number)
    .pipe(z.number().int().min(1, LIMIT_MESSAGE).max(MAX_LIMIT, LIMIT_MESSAGE))
    .optional()
    .transform((value) => value ?? DEFAULT_LIMIT),
  cursor: z.string().min(1, 'cursor must not be empty; omit it for the first page').max(1024, 'cursor is too long').optional(),
});

export interface DetectionRoutesOptions {
  detections: DetectionQuery;
}

/** `GET /api/v1/detections?limit&cursor`: newest first, keyset-paginated (`nextCursor` is null on the last page). */
export function detectionRoutes({ detections }: DetectionRoutesOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/api/v1/detections', async (c) => {
    const query = parseOr400(DetectionsQuerySchema, c.req.query(), 'query');
    // A bad cursor throws the service's InvalidCursorError (a UserError): 400 invalid_cursor.
    return c.json(await detections.list({ limit: query.limit, cursor: query.cursor }));
  });
  return app;
}
