import { UserError } from '@roadwatch/shared';
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import { ServiceError } from '../services/errors.js';
import type { AppEnv } from './env.js';

/** The one error envelope of the whole HTTP API. */
export interface ErrorEnvelope {
  error: { code: string; message: string; requestId: string };
}

/** An error with its HTTP status and a stable machine-readable code; its message is shown to the client. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function errorEnvelope(c: Context<AppEnv>, code: string, message: string): ErrorEnvelope {
  return { error: { code, message, requestId: c.get('requestId') ?? 'unknown' } };
}

const CODES: Partial<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

/**
 * Maps every thrown error to the envelope: ApiError as it says, a service's NotFoundError /
 * ConflictError to 404 `not_found` / 409 `conflict`, a UserError (a caller mistake the
 * services detected, e.g. a bad cursor) to 400 with its `code` when it has one, Hono's
 * HTTPException to its status, anything else to 500 with the details only in the log — clients
 * never see a stack trace.
 */
export function createErrorHandler(logger: Logger): ErrorHandler<AppEnv> {
  return (error, c) => {
    if (error instanceof ApiError) {
      for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
      return c.json(errorEnvelope(c, error.code, error.message), error.status);
    }
    if (error instanceof ServiceError) {
      return c.json(errorEnvelope(c, error.code, error.message), error.code === 'not_found' ? 404 : 409);
    }
    if (error instanceof UserError) {
      const code = (error as UserError & { code?: unknown }).code;
      return c.json(errorEnvelope(c, typeof code === 'string' ? code : 'bad_request', error.message), 400);
    }
    if (error instanceof HTTPException) {
      const status = error.status as ContentfulStatusCode;
      return c.json(errorEnvelope(c, CODES[status] ?? 'http_error', error.message || 'request failed'), status);
    }
    logger.error({ err: error, requestId: c.get('requestId'), method: c.req.method, path: c.req.path }, 'request failed');
    return c.json(errorEnvelope(c, 'internal', 'internal error; the hub log has the details under this requestId'), 500);
  };
}

export const notFoundHandler: NotFoundHandler<AppEnv> = (c) =>
  c.json(errorEnvelope(c, 'not_found', `no route for ${c.req.method} ${c.req.path}`), 404);
