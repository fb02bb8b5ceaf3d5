import { DeviceIdSchema } from '@roadwatch/shared';
import { Hono } from 'hono';
import { z } from 'zod';
import type { DeviceRegistry } from '../../services/ports.js';
import { TOKEN_SCOPES, type TokenAdmin } from '../../services/tokens.js';
import type { AppEnv } from '../env.js';
import { ApiError } from '../errors.js';
import { parseOr400 } from '../validate.js';
import { requireBearer } from './auth.js';

export const AddDeviceBodySchema = z.strictObject({ deviceId: DeviceIdSchema, rotate: z.boolean().optional() });
export const CreateTokenBodySchema = z.strictObject({ name: z.string(), scope: z.enum(TOKEN_SCOPES) });

export interface AdminRoutesOptions {
  devices: Pick<DeviceRegistry, 'add' | 'list'>;
  tokens: TokenAdmin;
  adminToken: string;
}

/**
 * Operator endpoints under `/admin/v1`, guarded by the bearer token the hub generates at start
 * (written to `<dataDir>/admin.json`). This is how the `roadwatch-hub devices …`
 * and `roadwatch-hub tokens …` commands work while `serve` holds the embedded database.
 */
export function adminRoutes({ devices, tokens, adminToken }: AdminRoutesOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('/admin/*', requireBearer(adminToken));
  app.post('/admin/v1/devices', async (c) => {
    const { deviceId, rotate } = parseOr400(AddDeviceBodySchema, await jsonBody(c.req, '{"deviceId":"veh-0042"}'), 'body');
    const credentials = await devices.add(deviceId, { rotate: rotate ?? false });
    c.header('Cache-Control', 'no-store');
    return c.json({ deviceId: credentials.deviceId, secret: credentials.secret }, 201);
  });
  app.get('/admin/v1/devices', async (c) => c.json({ items: await devices.list() }));
  app.post('/admin/v1/tokens', async (c) => {
    const input = parseOr400(CreateTokenBodySchema, await jsonBody(c.req, '{"name":"dashboard","scope":"read"}'), 'body');
    const created = await tokens.create(input);
    c.header('Cache-Control', 'no-store');
    return c.json(created, 201);
  });
  app.get('/admin/v1/tokens', async (c) => c.json({ items: await tokens.list() }));
  // A service NotFoundError (no such token) is a 404 envelope.
  app.delete('/admin/v1/tokens/:nameOrId', async (c) => c.json(await tokens.revoke(c.req.param('nameOrId'))));
  return app;
}

async function jsonBody(req: { json(): Promise<unknown> }, example: string): Promise<unknown> {
  try {
    return await req.json();
  } catch {
    throw new ApiError(400, 'invalid_json', `request body must be JSON such as ${example}`);
  }
}
