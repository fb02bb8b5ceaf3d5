import { formatZodIssues } from '@roadwatch/shared';
import type { z } from 'zod';
import { ApiError } from './errors.js';

/** Parses with a zod schema or throws a 400 naming every problem at once. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ApiError(400, 'invalid_request', `invalid ${what}: ${formatZodIssues(result.error).join('; ')}`);
}
