import { Hono } from 'hono';
import { scopeAllows } from '../../services/tokens.js';
import type { AppEnv } from '../env.js';

/** `GET /api/v1/me` (read): the calling token's id, name and scope, as the bearerAuth middleware found it. */
export function meRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/api/v1/me', (c) => {
    const { id, name, scope } = c.get('token')!;
    c.header('Cache-Control', 'no-store');
    return c.json({ id, name, scope, may: { read: true, ack: scopeAllows(scope, 'ack'), admin: scopeAllows(scope, 'admin') } });
  });
  return app;
}
