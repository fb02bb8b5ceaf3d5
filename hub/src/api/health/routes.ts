import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import { errorEnvelope } from '../errors.js';

export interface Readiness {
  db: boolean;
  broker: boolean;
}

export interface HealthRoutesOptions {
  /** Current readiness of the parts the hub needs; may be async (a database ping). */
  readiness: () => Readiness | Promise<Readiness>;
}

const PART_NAMES: Record<keyof Readiness, string> = { db: 'database not reachable', broker: 'MQTT broker not listening' };

/** `GET /health` (liveness: the process answers) and `GET /health/ready` (503 until DB and broker are up). */
export function healthRoutes({ readiness }: HealthRoutesOptions): Hono<AppEnv> {
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
  return app;
}
