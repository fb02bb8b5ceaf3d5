import type { z } from 'zod';

/** One line per problem, `path: message`, so a config or payload error names every cause at once. */
export function formatZodIssues(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length ? issue.path.join('.') : '(root)';
    return `${prefix}${path}: ${issue.message}`;
  });
}

/** An error a person can act on: what went wrong and how to fix it. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly fix?: string,
  ) {
    super(fix ? `${message} — ${fix}` : message);
    this.name = 'UserError';
  }
}
