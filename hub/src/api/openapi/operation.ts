import { z } from 'zod';

/**
 * Who may call an operation:
 * - `public`: nobody needs a token (probes, the API description);
 * - `read` / `ack` / `admin`: an API token of at least that scope (`Authorization: Bearer <token>`);
 * - `metrics`: open unless `metrics.requireToken` is set, then a `read` token;
 * - `admin-token`: the per-start admin token of `<data dir>/admin.json`, not an API token;
 * - `device`: HTTP Basic with a device's id and secret (the HTTPS uplink).
 */
export type OperationAccess = 'public' | 'read' | 'ack' | 'admin' | 'metrics' | 'admin-token' | 'device';

export interface OperationResponse {
  description: string;
  /** The body: a registered component (see `component`) or any zod schema (inlined). */
  schema?: z.ZodType;
  /** Default `application/json` when there is a schema. */
  contentType?: string;
  example?: unknown;
  /** Other representations of the same answer (e.g. `format=geojson`). */
  also?: Array<{ contentType: string; schema: z.ZodType }>;
}

/** One operation of the OpenAPI document, described by the zod schemas its route validates with. */
export interface ApiOperation {
  method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI path template: `/api/v1/alarms/{id}`. */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  access: OperationAccess;
  /** The route's query schema (querySchema in ../query.ts): parameters, their descriptions and JSON Schemas. */
  query?: z.ZodObject;
  /** The route's path-parameter schema. */
  params?: z.ZodObject;
  body?: { schema: z.ZodType; description?: string; example?: unknown };
  /** Success and route-specific error responses; the common errors (400, 401, 403, 429, 500) are added by the document builder. */
  responses: Record<number, OperationResponse>;
}

/** Schemas shown under `components.schemas`, by name. */
export const apiComponents = z.registry<{ id: string; description?: string }>();

/** Registers `schema` as the component `id` (referenced as `#/components/schemas/<id>`) and returns it. */
export function component<S extends z.ZodType>(id: string, schema: S, description?: string): S {
  apiComponents.add(schema, { id, ...(description ? { description } : {}) });
  return schema;
}

/** The one error envelope of the API (../errors.ts). */
export const ErrorEnvelopeSchema = component(
  'ErrorEnvelope',
  z.object({
    error: z.object({
      code: z.string().meta({ description: 'Stable machine-readable code: invalid_request, invalid_cursor, unauthorized, insufficient_scope, not_found, conflict, rate_limited, internal, …' }),
      message: z.string().meta({ description: 'What went wrong and how to fix it, for people.' }),
      requestId: z.string().meta({ description: 'Also in the X-Request-Id response header and in the hub log.' }),
    }),
  }),
  'Every error answer of the hub: {"error":{"code","message","requestId"}}.',
);
