import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { paramMeta, stripDateTimePatterns } from '../query.js';
import { apiComponents, ErrorEnvelopeSchema, type ApiOperation, type OperationAccess } from './operation.js';

/** The parts of an OpenAPI 3.1 document this hub writes. */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  tags: Array<{ name: string; description: string }>;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, Record<string, string>> };
}

export type JsonSchema = Record<string, unknown>;

export interface OpenApiParameter {
  name: string;
  in: 'query' | 'path';
  required: boolean;
  description: string;
  schema: JsonSchema;
  style?: 'form';
  explode?: boolean;
  example?: unknown;
}

export interface OpenApiOperation {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  security: Array<Record<string, string[]>>;
  'x-required-scope'?: string;
  parameters?: OpenApiParameter[];
  requestBody?: { required: true; description?: string; content: Record<string, { schema: JsonSchema; example?: unknown }> };
  responses: Record<string, { description: string; headers?: Record<string, unknown>; content?: Record<string, { schema: JsonSchema; example?: unknown }> }>;
}

const TAGS: Record<string, string> = {
  alarms: 'Alarms raised by the rules (severe damage, hotspot, device offline, outbox backlog, sensor fault) and their lifecycle.',
  detections: 'Road-damage events as the vehicles reported them.',
  aggregates: 'Hourly rollups per vehicle and per H3 cell: trends and hotspots.',
  devices: 'Vehicles and their latest status.',
  tokens: 'The API token making the request.',
  health: 'Probes and diagnostics.',
  metrics: 'Prometheus metrics.',
  uplink: 'Vehicles sending batches over HTTPS.',
  admin: 'Local operator API (roadwatch-hub devices / tokens): the per-start admin token, not an API token.',
  docs: 'This API description: the OpenAPI document and its HTML page.',
};

const SECURITY: Record<OperationAccess, { security: Array<Record<string, string[]>>; scope?: string }> = {
  public: { security: [] },
  read: { security: [{ bearerAuth: [] }], scope: 'read' },
  ack: { security: [{ bearerAuth: [] }], scope: 'ack' },
  admin: { security: [{ bearerAuth: [] }], scope: 'admin' },
  metrics: { security: [{}, { bearerAuth: [] }], scope: 'read (only when metrics.requireToken is set)' },
  'admin-token': { security: [{ adminToken: [] }] },
  device: { security: [{ deviceBasic: [] }] },
};

const ACCESS_TEXT: Record<OperationAccess, string> = {
  public: 'No token.',
  read: 'API token with scope read, ack or admin.',
  ack: 'API token with scope ack or admin (a read token gets 403 insufficient_scope).',
  admin: 'API token with scope admin.',
  metrics: 'No token, unless metrics.requireToken is set: then an API token with scope read.',
  'admin-token': 'The per-start admin token from <data dir>/admin.json (API tokens do not work here).',
  device: 'HTTP Basic: device id and device secret.',
};

export const accessText = (access: OperationAccess): string => ACCESS_TEXT[access];

const error = (description: string) => ({ description, content: { 'application/json': { schema: ref('ErrorEnvelope') } } });

/**
 * The OpenAPI 3.1 document of the given operations: parameters, bodies and responses converted from
 * the routes' zod schemas (z.toJSONSchema, JSON Schema 2020-12 as OpenAPI 3.1 uses it), the
 * registered components under components.schemas, the common error answers added per access kind.
 */
export function buildOpenApiDocument(operations: readonly ApiOperation[], options: { version?: string } = {}): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const op of operations) {
    const sec = SECURITY[op.access];
    const parameters = [...parametersOf(op.params, 'path'), ...parametersOf(op.query, 'query')];
    const out: OpenApiOperation = {
      operationId: op.operationId,
      tags: [op.tag],
      summary: op.summary,
      description: [op.description, `Access: ${ACCESS_TEXT[op.access]}`].filter(Boolean).join('\n\n'),
      security: sec.security,
      ...(sec.scope ? { 'x-required-scope': sec.scope } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(op.body
        ? {
            requestBody: {
              required: true as const,
              ...(op.body.description ? { description: op.body.description } : {}),
              content: { 'application/json': { schema: schemaOf(op.body.schema, 'input'), ...(op.body.example !== undefined ? { example: op.body.example } : {}) } },
            },
          }
        : {}),
      responses: {},
    };
    for (const [status, r] of Object.entries(op.responses)) {
      const content: Record<string, { schema: JsonSchema; example?: unknown }> = {};
      if (r.schema) content[r.contentType ?? 'application/json'] = { schema: schemaOf(r.schema, 'output'), ...(r.example !== undefined ? { example: r.example } : {}) };
      for (const alt of r.also ?? []) content[alt.contentType] = { schema: schemaOf(alt.schema, 'output') };
      out.responses[status] = { description: r.description, ...(Object.keys(content).length ? { content } : {}) };
    }
    addCommonErrors(out, op);
    (paths[op.path] ??= {})[op.method] = out;
  }

  const usedTags = [...new Set(operations.map((o) => o.tag))];
  return {
    openapi: '3.1.0',
    info: {
      title: 'roadwatch hub API',
      version: options.version ?? HUB_VERSION,
      description:
        'Road damage found by vehicles, for fleet managers. Send an API token as `Authorization: Bearer <token>` ' +
        '(`roadwatch-hub tokens create --name NAME --scope read|ack|admin`). Scopes: read < ack < admin; GET needs read, ' +
        'acknowledging and clearing alarms need ack. Every error is `{"error":{"code","message","requestId"}}`.',
    },
    tags: usedTags.map((name) => ({ name, description: TAGS[name] ?? name })),
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'API token (rwt_…) from roadwatch-hub tokens create; scope read, ack or admin.' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'The per-start admin token in <data dir>/admin.json (local operators).' },
        deviceBasic: { type: 'http', scheme: 'basic', description: 'Device id and secret (roadwatch-hub devices add).' },
      },
    },
  };
}

function addCommonErrors(out: OpenApiOperation, op: ApiOperation): void {
  const add = (status: number, description: string) => {
    out.responses[String(status)] ??= error(description);
  };
  if (op.query || op.params || op.body) add(400, 'Invalid request: the message names every bad parameter and what is allowed (invalid_request, invalid_cursor, invalid_json).');
  if (op.access === 'read' || op.access === 'ack' || op.access === 'admin') {
    add(401, 'Missing, invalid or revoked API token (unauthorized; WWW-Authenticate: Bearer).');
    add(403, 'Address outside ALLOWED_IPS (forbidden_address) or token scope too low (insufficient_scope).');
    out.responses['429'] ??= {
      ...error('Past the per-token rate limit (rate_limited).'),
      headers: { 'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' } } },
    };
  }
  if (op.access === 'admin-token') add(401, 'Missing or wrong admin token.');
  add(500, 'Internal error; the hub log has the details under the requestId.');
}

function parametersOf(schema: z.ZodObject | undefined, where: 'query' | 'path'): OpenApiParameter[] {
  if (!schema) return [];
  return Object.entries(schema.shape).map(([name, field]) => {
    const f = field as z.ZodType;
    const meta = paramMeta(f);
    const description = meta?.description ?? (z.globalRegistry.get(f)?.description as string | undefined) ?? '';
    return {
      name,
      in: where,
      required: where === 'path' || !f.safeParse(undefined).success,
      description,
      schema: meta?.openapi ?? schemaOf(f, 'input'),
      ...(meta?.list ? { style: 'form' as const, explode: false } : {}),
      ...(meta?.example !== undefined ? { example: meta.example } : {}),
    };
  });
}

const ref = (id: string): JsonSchema => ({ $ref: `#/components/schemas/${id}` });

/** A registered component as a $ref; anything else converted inline, its registered parts as $refs. */
function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const id = apiComponents.get(schema)?.id;
  if (id && io === 'output') return ref(id);
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', ...(io === 'output' ? { metadata: apiComponents } : {}) }) as JsonSchema;
  const { $schema: _s, $defs: _d, ...rest } = json;
  return rewriteRefs(stripDateTimePatterns(rest)) as JsonSchema;
}

function componentSchemas(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(apiComponents, { uri: (id) => `#/components/schemas/${id}`, unrepresentable: 'any' }) as { schemas: Record<string, JsonSchema> };
  const out: Record<string, JsonSchema> = {};
  for (const name of Object.keys(schemas).sort()) {
    const { $schema: _s, $id: _i, ...rest } = schemas[name]!;
    out[name] = stripDateTimePatterns(rest) as JsonSchema;
  }
  // Referenced by every operation's common errors even when no route module registered it first.
  if (!out.ErrorEnvelope) out.ErrorEnvelope = schemaOf(ErrorEnvelopeSchema, 'input');
  return out;
}

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = k === '$ref' && typeof v === 'string' ? v.replace('#/$defs/', '#/components/schemas/') : rewriteRefs(v);
  }
  return out;
}

/** hub/package.json's version (src/api/openapi and dist/api/openapi are both three levels below it). */
const HUB_VERSION = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
})();
