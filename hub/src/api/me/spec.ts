import { z } from 'zod';
import { TOKEN_SCOPES } from '../../services/tokens.js';
import { component, type ApiOperation } from '../openapi/operation.js';

export const MeSchema = component(
  'Me',
  z.object({
    id: z.string().meta({ description: 'The token id (as in roadwatch-hub tokens list).' }),
    name: z.string().meta({ description: 'The token name: recorded as ackedBy / clearedBy when it acknowledges or clears an alarm.' }),
    scope: z.enum(TOKEN_SCOPES).meta({ description: 'read < ack < admin.' }),
    may: z
      .object({ read: z.boolean(), ack: z.boolean(), admin: z.boolean() })
      .meta({ description: 'What the scope allows: read = every GET, ack = also acknowledge and clear alarms, admin = everything.' }),
  }),
  'The API token that made the request.',
);

export const meOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/api/v1/me',
    operationId: 'getMe',
    tag: 'tokens',
    summary: 'The calling token: name and scope',
    description: 'Who am I: the name and scope of the token in the Authorization header — e.g. for a dashboard to offer acknowledge and clear only to tokens that may. Never returns the token itself.',
    access: 'read',
    responses: { 200: { description: 'The token.', schema: MeSchema } },
  },
];
