import type { RequestIdVariables } from 'hono/request-id';

/** Hono environment shared by every route module. */
export interface AppEnv {
  Variables: RequestIdVariables;
}
