import { DeviceIdSchema } from '@roadwatch/shared';
import { Hono } from 'hono';
import { z } from 'zod';
import type { DeviceRegistry } from '../../services/ports.js';
import type { AppEnv } from '../env.js';
import { ApiError } from '../errors.js';
import { parseOr400 } from '../validate.js';
import { requireBearer } from './auth.js';

export const AddDeviceBodySchema = z.strictObject({ deviceId: DeviceIdSchema, rotate: z.boolean().optional() });

export interface AdminRoutesOptions {
  devices: Pick<DeviceRegistry, 'add' | 'list'>;
  adminToken: string;
}

/**
 * Operator endpoints under `/admin/v1`, guarded by the bearer token the hub generates at start
 * (written to `<dataDir>/admin.json`). This is how the `roadwatch-hub devices …` commands work
 * while `serve` holds the embedded database.
 */
export function adminRoutes({ devices, adminToken }: AdminRoutesOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('/admin/*', requireBearer(adminToken));
  app.post('/admin/v1/devices', async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new ApiError(400, 'invalid_json', 'request body must be JSON such as {"deviceId":"veh-0042"}');
    }
    const { deviceId, rotate } = parseOr400(AddDeviceBodySchema, body, 'body');
    const credentials = await devices.add(deviceId, { rotate: rotate ?? false });
    c.header('Cache-Control', 'no-store');
    return c.json({ deviceId: credentials.deviceId, secret: credentials.secret }, 201);
  });
  app.get('/admin/v1/devices', async (c) => c.json({ items: await devices.list() }));
  return app;
}
