import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { describe, expect, it } from 'vitest';
import { testLogger } from '../db/testing/databases.js';
import { ConflictError, InvalidRequestError, NotFoundError } from '../services/errors.js';
import type { AppEnv } from './env.js';
import { createErrorHandler } from './errors.js';

describe('error envelope for service errors', () => {
  const app = new Hono<AppEnv>();
  app.use(requestId());
  app.get('/missing', () => {
    throw new NotFoundError('alarm 7 not found');
  });
  app.get('/conflict', () => {
    throw new ConflictError('alarm 7 is already acknowledged');
  });
  app.get('/invalid', () => {
    throw new InvalidRequestError('limit must be an integer from 1 to 1000, got 0');
  });
  app.onError(createErrorHandler(testLogger()));

  it.each([
    ['/missing', 404, 'not_found', 'alarm 7 not found'],
    ['/conflict', 409, 'conflict', 'alarm 7 is already acknowledged'],
    ['/invalid', 400, 'invalid_request', 'limit must be an integer from 1 to 1000, got 0'],
  ])('%s → %i %s', async (path, status, code, message) => {
    const res = await app.request(path);
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ error: { code, message, requestId: expect.any(String) } });
  });
});
