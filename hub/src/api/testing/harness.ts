import { Hono } from 'hono';
import { testLogger } from '../../db/testing/databases.js';
import type { AppEnv } from '../env.js';
import { createErrorHandler, notFoundHandler, type ErrorEnvelope } from '../errors.js';
import { requestId } from '../middleware/request-id/index.js';

/** A bare app with the request id, the error envelope and the 404 handler: for testing one middleware. */
export function middlewareHarness(configure: (app: Hono<AppEnv>) => void): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(requestId());
  configure(app);
  app.notFound(notFoundHandler);
  app.onError(createErrorHandler(testLogger()));
  return app;
}

/** The parsed error envelope of a response (and a check that it is one). */
export async function envelope(res: Response): Promise<ErrorEnvelope['error']> {
  const body = (await res.json()) as ErrorEnvelope;
  if (!body?.error || typeof body.error.code !== 'string' || typeof body.error.requestId !== 'string') {
    throw new Error(`not an error envelope: ${JSON.stringify(body)}`);
  }
  return body.error;
}
