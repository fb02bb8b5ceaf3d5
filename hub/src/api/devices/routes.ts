import { Hono } from 'hono';
import type { DeviceViewService } from '../../services/device-views.js';
import { NotFoundError } from '../../services/errors.js';
import type { AppEnv } from '../env.js';
import { ApiError } from '../errors.js';
import { parsePath, parseQuery } from '../query.js';
import { DeviceIdPathSchema, DevicesQuerySchema } from './spec.js';

export interface DeviceRoutesOptions {
  devices: Pick<DeviceViewService, 'list' | 'get'>;
}

/** `GET /api/v1/devices` and `GET /api/v1/devices/{id}`: vehicles with their latest status (read scope). */
export function deviceRoutes({ devices }: DeviceRoutesOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/api/v1/devices', async (c) => {
    const q = parseQuery(c, DevicesQuerySchema);
    return c.json(await devices.list({ limit: q.limit, offset: q.offset, state: q.state }));
  });
  app.get('/api/v1/devices/:id', async (c) => {
    const { id } = parsePath(c, DeviceIdPathSchema);
    try {
      return c.json(await devices.get(id));
    } catch (err) {
      if (err instanceof NotFoundError) throw new ApiError(404, 'not_found', `${err.message}: check the id against GET /api/v1/devices`);
      throw err;
    }
  });
  return app;
}
