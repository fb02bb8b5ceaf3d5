import { UserError } from '@roadwatch/shared';

/** The model cannot be used: missing or corrupt file, unknown output layout, class list mismatch. */
export class ModelError extends UserError {
  constructor(message: string, fix?: string) {
    super(message, fix);
    this.name = 'ModelError';
  }
}

/**
 * One image could not be processed (not an image, truncated, too large) or its inference failed.
 * The detector stays usable: the next frame is processed as usual.
 */
export class DetectError extends UserError {
  constructor(message: string, fix?: string) {
    super(message, fix);
    this.name = 'DetectError';
  }
}
