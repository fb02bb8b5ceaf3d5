import type { RequestIdVariables } from 'hono/request-id';
import type { TokenIdentity } from '../services/tokens.js';

/** Hono environment shared by every route module. */
export interface AppEnv {
  Variables: RequestIdVariables & {
    /** The API token that authenticated the request (set by the bearerAuth middleware): who did it. */
    token?: TokenIdentity;
    /** The client's address, after trusted proxies (set by the ipAllowlist middleware). */
    clientAddress?: string;
  };
}
