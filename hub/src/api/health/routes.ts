import { Hono } from 'hono';
import type { Diagnostics } from '../../services/diagnostics.js';
import type { AppEnv } from '../env.js';
import { errorEnvelope } from '../errors.js';
import { requireScope } from '../middleware/bearer-auth/index.js';

export interface Readiness {
  db: boolean;
  broker: boolean;
}

export interface HealthRoutesOptions {
  /** Current readiness of the parts the hub needs; may be async (a database ping). */
  readiness: () => Readiness | Promise<Readiness>;
  /** `GET /health/diagnostics` (admin token; access control puts bearer auth on it); absent → no such route. */
  diagnostics?: (() => Promise<Diagnostics>) | undefined;
}

const PART_NAMES: Record<keyof Readiness, string> = { db: 'database not reachable', broker: 'MQTT broker not ready' };

/**
 * `GET /health` (liveness: the process answers), `GET /health/ready` (503 until DB and broker are
 * up) and `GET /health/diagnostics` (admin scope: each part's state, versions, uptime).
 */
export function healthRoutes({ readiness, diagnostics }: HealthRoutesOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/health/ready', async (c) => {
    let checks: Readiness;
    try {
      checks = await readiness();
    } catch {
      checks = { db: false, broker: false };
    }
    const down = (Object.keys(PART_NAMES) as Array<keyof Readiness>).filter((part) => !checks[part]);
    if (down.length === 0) return c.json({ status: 'ready', checks }, 200);
    return c.json({ ...errorEnvelope(c, 'not_ready', `not ready: ${down.map((part) => PART_NAMES[part]).join(', ')}`), checks }, 503);
  });
  if (diagnostics) {
    app.get('/health/diagnostics', requireScope('admin'), async (c) => {
      c.header('Cache-Control', 'no-store');
      return c.json(await diagnostics());
    });
  }
  return app;
}
