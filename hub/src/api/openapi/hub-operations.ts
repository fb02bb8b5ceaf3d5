import { AckSchema, BatchSchema, DeviceIdSchema } from '@roadwatch/shared';
import { z } from 'zod';
import { AddDeviceBodySchema, CreateTokenBodySchema } from '../admin/routes.js';
import { component, ErrorEnvelopeSchema, type ApiOperation } from './operation.js';

/**
 * The operations of the route modules that are not fleet-manager features (health, metrics, the
 * device uplink, the local admin API), described here from their zod schemas so that the document
 * lists every route the hub serves. Whoever adds a route adds its operation here or beside its
 * routes.ts (openapi/routes.test.ts fails on a route the document does not list).
 */

const time = z.iso.datetime();

const ReadySchema = component(
  'Readiness',
  z.object({
    status: z.literal('ready'),
    checks: z.object({ db: z.boolean(), broker: z.boolean() }),
  }),
);

const NotReadySchema = component(
  'NotReady',
  ErrorEnvelopeSchema.extend({ checks: z.object({ db: z.boolean(), broker: z.boolean() }) }),
  'The error envelope (code not_ready) with the state of each part.',
);

const DiagnosticsSchema = component(
  'Diagnostics',
  z.looseObject({
    status: z.enum(['ok', 'degraded']),
    problems: z.array(z.string()).meta({ description: 'One line per problem found, naming the cause and the fix.' }),
    startedAt: time,
    uptimeS: z.number(),
    versions: z.looseObject({ hub: z.string(), node: z.string(), protocol: z.number(), database: z.string().nullable() }),
    database: z.looseObject({}),
    migrations: z.looseObject({}),
    broker: z.looseObject({}).nullable(),
  }),
  'The state of each part of this hub, for an operator.',
);

const Ack = component('Ack', AckSchema, 'The hub’s answer to one batch, sent only after its transaction committed (protocol v1, docs/PROTOCOL.md).');

const AdminDeviceSchema = component(
  'AdminDevice',
  z.object({ deviceId: z.string(), createdAt: time, lastSeenAt: time.nullable(), state: z.enum(['online', 'offline', 'unknown']) }),
);
const DeviceCredentialsSchema = component('DeviceCredentials', z.object({ deviceId: DeviceIdSchema, secret: z.string().meta({ description: 'Shown once; stored hashed.' }) }));
const TokenSummarySchema = component(
  'TokenSummary',
  z.object({
    id: z.string(),
    name: z.string(),
    scope: z.enum(['read', 'ack', 'admin']),
    prefix: z.string().meta({ description: 'First characters of the token, to tell tokens apart.' }),
    createdAt: time,
    lastUsedAt: time.nullable(),
    revokedAt: time.nullable(),
  }),
);
const CreatedTokenSchema = component('CreatedToken', TokenSummarySchema.extend({ token: z.string().meta({ description: 'The token itself, shown this once.' }) }));

const adminOp = (op: Omit<ApiOperation, 'tag' | 'access'>): ApiOperation => ({ ...op, tag: 'admin', access: 'admin-token' });

export const hubOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/health',
    operationId: 'health',
    tag: 'health',
    summary: 'Liveness',
    description: 'The process answers. For load balancers: no token, no address check.',
    access: 'public',
    responses: { 200: { description: 'Alive.', schema: z.object({ status: z.literal('ok') }) } },
  },
  {
    method: 'get',
    path: '/health/ready',
    operationId: 'ready',
    tag: 'health',
    summary: 'Readiness',
    description: '200 when the database and the MQTT broker are up, else 503 naming what is not. No token, no address check.',
    access: 'public',
    responses: {
      200: { description: 'Ready.', schema: ReadySchema },
      503: { description: 'Not ready: checks names the part that is down.', schema: NotReadySchema },
    },
  },
  {
    method: 'get',
    path: '/health/diagnostics',
    operationId: 'diagnostics',
    tag: 'health',
    summary: 'Diagnostics',
    description: 'Each part’s state, versions and uptime, for an operator. Needs an API token with scope admin.',
    access: 'admin',
    responses: { 200: { description: 'The diagnostics.', schema: DiagnosticsSchema } },
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    tag: 'metrics',
    summary: 'Prometheus metrics',
    description: 'Text exposition format. Open unless metrics.requireToken is set; then it needs a read token.',
    access: 'metrics',
    responses: { 200: { description: 'Metrics.', contentType: 'text/plain; version=0.0.4', schema: z.string() } },
  },
  {
    method: 'post',
    path: '/api/v1/devices/{deviceId}/events',
    operationId: 'uplinkEvents',
    tag: 'uplink',
    summary: 'Device uplink over HTTPS',
    description:
      'The MQTT batch over HTTPS, for vehicles that cannot use MQTT. HTTP Basic with the device id and its secret (not an API token); a device may post only under its own id. The response is the same ack as on MQTT, sent after the transaction committed.',
    access: 'device',
    params: z.object({ deviceId: DeviceIdSchema.meta({ description: 'The device’s own id.', openapi: { type: 'string' } }) }),
    body: { schema: BatchSchema, description: 'One batch of events (protocol v1, docs/PROTOCOL.md).' },
    responses: {
      200: { description: 'The ack.', schema: Ack },
      400: { description: 'An unusable batch (quarantined; ack included when its batchId was readable).', schema: ErrorEnvelopeSchema },
      401: { description: 'Missing or wrong device credentials.', schema: ErrorEnvelopeSchema },
      403: { description: 'Another device’s id in the URL.', schema: ErrorEnvelopeSchema },
      413: { description: 'Body over uplink.maxBodyBytes.', schema: ErrorEnvelopeSchema },
      503: { description: 'Database down or hub stopping: resend after Retry-After.', schema: ErrorEnvelopeSchema },
    },
  },
  adminOp({
    method: 'post',
    path: '/admin/v1/devices',
    operationId: 'adminAddDevice',
    summary: 'Register a device (or rotate its secret)',
    body: { schema: AddDeviceBodySchema, example: { deviceId: 'veh-0042' } },
    responses: { 201: { description: 'The device id and its secret (shown once).', schema: DeviceCredentialsSchema } },
  }),
  adminOp({
    method: 'get',
    path: '/admin/v1/devices',
    operationId: 'adminListDevices',
    summary: 'List devices',
    responses: { 200: { description: 'Every device.', schema: z.object({ items: z.array(AdminDeviceSchema) }) } },
  }),
  adminOp({
    method: 'post',
    path: '/admin/v1/tokens',
    operationId: 'adminCreateToken',
    summary: 'Issue an API token',
    body: { schema: CreateTokenBodySchema, example: { name: 'dashboard', scope: 'read' } },
    responses: { 201: { description: 'The token (shown once).', schema: CreatedTokenSchema } },
  }),
  adminOp({
    method: 'get',
    path: '/admin/v1/tokens',
    operationId: 'adminListTokens',
    summary: 'List API tokens',
    responses: { 200: { description: 'Every token (never the token itself).', schema: z.object({ items: z.array(TokenSummarySchema) }) } },
  }),
  adminOp({
    method: 'delete',
    path: '/admin/v1/tokens/{nameOrId}',
    operationId: 'adminRevokeToken',
    summary: 'Revoke an API token',
    params: z.object({ nameOrId: z.string().meta({ description: 'The token’s name or id.', openapi: { type: 'string' } }) }),
    responses: {
      200: { description: 'The revoked token.', schema: TokenSummarySchema },
      404: { description: 'No such token.', schema: ErrorEnvelopeSchema },
    },
  }),
];
