import { UserError } from '@roadwatch/shared';

/**
 * Errors services throw for the caller to map (the HTTP layer: `not_found` → 404, `conflict` → 409).
 * Services know nothing of HTTP: `code` is the stable machine-readable code of the error envelope.
 */
export class ServiceError extends Error {
  constructor(
    readonly code: 'not_found' | 'conflict',
    message: string,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

/** The thing asked for does not exist. */
export class NotFoundError extends ServiceError {
  constructor(message: string) {
    super('not_found', message);
    this.name = 'NotFoundError';
  }
}

/** The request is valid but the current state forbids it (e.g. acknowledging an acknowledged alarm). */
export class ConflictError extends ServiceError {
  constructor(message: string) {
    super('conflict', message);
    this.name = 'ConflictError';
  }
}

/** A caller mistake in the arguments (limit out of range, unknown status…); a UserError, so HTTP answers 400 `invalid_request`. */
export class InvalidRequestError extends UserError {
  readonly code = 'invalid_request';
  constructor(message: string, fix?: string) {
    super(message, fix);
    this.name = 'InvalidRequestError';
  }
}
