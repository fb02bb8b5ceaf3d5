import { Hono } from 'hono';
import type { AlarmService } from '../../services/alarms.js';
import { NotFoundError } from '../../services/errors.js';
import type { AppEnv } from '../env.js';
import { ApiError } from '../errors.js';
import { requireScope } from '../middleware/bearer-auth/index.js';
import { parsePath, parseQuery } from '../query.js';
import { AlarmIdPathSchema, AlarmsQuerySchema } from './spec.js';

export interface AlarmRoutesOptions {
  alarms: Pick<AlarmService, 'list' | 'ack' | 'clear'>;
}

/**
 * `GET /api/v1/alarms` (read), `POST /api/v1/alarms/{id}/ack` and `/clear` (ack scope; the token's
 * name is recorded as who did it). A wrong transition is the service's ConflictError: 409 `conflict`.
 */
export function alarmRoutes({ alarms }: AlarmRoutesOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/api/v1/alarms', async (c) => {
    const q = parseQuery(c, AlarmsQuerySchema);
    return c.json(
      await alarms.list({ limit: q.limit, offset: q.offset, latest: q.latest, status: q.status, severity: q.severity, type: q.type, deviceId: q.deviceId }),
    );
  });

  for (const verb of ['ack', 'clear'] as const) {
    app.post(`/api/v1/alarms/:id/${verb}`, requireScope('ack'), async (c) => {
      const { id } = parsePath(c, AlarmIdPathSchema);
      const by = c.get('token')!.name;
      try {
        return c.json(verb === 'ack' ? await alarms.ack(id, by) : await alarms.clear(id, by));
      } catch (err) {
        if (err instanceof NotFoundError) throw new ApiError(404, 'not_found', `${err.message}: check the id against GET /api/v1/alarms`);
        throw err;
      }
    });
  }
  return app;
}
