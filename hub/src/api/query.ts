import { DEVICE_ID_PATTERN } from '@roadwatch/shared';
import type { Context } from 'hono';
import { z } from 'zod';
import { ApiError } from './errors.js';

/**
 * Query and path parameters of the REST API: one builder per kind of parameter. Each builder returns
 * the zod schema the route validates with, carrying in its metadata the description and the JSON
 * Schema the OpenAPI document shows for it (made by z.toJSONSchema from the same zod range checks the
 * value passes through). Every message names the parameter, the allowed values and what was sent.
 */

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;
/** Offset paging re-reads the skipped rows; past this, narrow the filters instead. */
export const MAX_OFFSET = 100_000;
/** Longest accepted parameter value (cursors, lists). */
const MAX_VALUE_LENGTH = 2048;

/** What the OpenAPI document says about a parameter (zod metadata on its schema). */
export interface ParamMeta {
  description: string;
  /** JSON Schema of the parameter as a client writes it. */
  openapi: Record<string, unknown>;
  /** A comma-separated list that may also be given as repeated parameters (`a=x&a=y`). */
  list?: boolean;
  /** A value to show in the docs (an array for list parameters). */
  example?: unknown;
}

export function paramMeta(schema: z.ZodType): ParamMeta | undefined {
  const meta = z.globalRegistry.get(schema) as Partial<ParamMeta> | undefined;
  return meta?.openapi && typeof meta.description === 'string' ? (meta as ParamMeta) : undefined;
}

/** z.toJSONSchema of a schema, without `$schema` and without the long regex zod adds to date-times. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output' = 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return stripDateTimePatterns(rest) as Record<string, unknown>;
}

/** Drops what z.toJSONSchema adds that only clutters a document: the date-time regex, the safe-integer bounds of `.int()`. */
export function stripDateTimePatterns(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripDateTimePatterns);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  const obj = value as Record<string, unknown>;
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'pattern' && (obj.format === 'date-time' || obj.format === 'date')) continue;
    if ((k === 'minimum' && v === Number.MIN_SAFE_INTEGER) || (k === 'maximum' && v === Number.MAX_SAFE_INTEGER)) continue;
    out[k] = stripDateTimePatterns(v);
  }
  return out;
}

const show = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : String(value));

type Issues = { issues: z.core.$ZodRawIssue[] };
const fail = (ctx: Issues, input: unknown, message: string): never => {
  ctx.issues.push({ code: 'custom', message, input });
  return z.NEVER;
};

function withMeta<S extends z.ZodType>(schema: S, meta: ParamMeta): S {
  return schema.meta(meta as unknown as z.core.GlobalMeta) as S;
}

/** An integer in [min, max]; `fallback` when absent. */
export function intParam<F extends number | undefined>(name: string, o: { min: number; max: number; fallback: F; description: string; hint?: string }) {
  const message = (got: unknown) => `${name} must be an integer from ${o.min} to ${o.max}, got ${show(got)}${o.hint ? ` — ${o.hint}` : ''}`;
  const range = z.number().int().min(o.min).max(o.max);
  const schema = z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined) return o.fallback;
      if (!/^\d{1,16}$/.test(s)) return fail(ctx, s, message(s));
      const n = Number(s);
      return range.safeParse(n).success ? n : fail(ctx, s, message(s));
    });
  return withMeta(schema, { description: o.description, openapi: jsonSchemaOf(o.fallback === undefined ? range : range.default(o.fallback)) });
}

export const limitParam = (what: string, fallback = DEFAULT_LIMIT) =>
  intParam('limit', { min: 1, max: MAX_LIMIT, fallback, description: `How many ${what} to return, 1–${MAX_LIMIT} (default ${fallback}).` });

export const offsetParam = (what: string) =>
  intParam('offset', {
    min: 0,
    max: MAX_OFFSET,
    fallback: 0,
    description: `How many ${what} to skip, 0–${MAX_OFFSET} (default 0): the next page is offset + limit.`,
    hint: 'for deeper pages narrow the filters',
  });

/** A number in [min, max] (decimal notation), or undefined. */
export function numberParam(name: string, o: { min: number; max: number; description: string; example?: string }) {
  const message = (got: unknown) => `${name} must be a decimal number from ${o.min} to ${o.max}, got ${show(got)}`;
  const range = z.number().min(o.min).max(o.max);
  const schema = z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined) return undefined;
      if (!/^-?(\d+(\.\d*)?|\.\d+)$/.test(s)) return fail(ctx, s, message(s));
      const n = Number(s);
      return range.safeParse(n).success ? n : fail(ctx, s, message(s));
    });
  return withMeta(schema, { description: o.description, openapi: jsonSchemaOf(range), ...(o.example ? { example: o.example } : {}) });
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const isoDateTime = z.iso.datetime({ offset: true });

/** An ISO-8601 time with a zone (`2026-11-22T08:00:00Z`, `…+01:00`) or a date (midnight UTC), as a Date; undefined when absent. */
export function timeParam(name: string, description: string) {
  const message = (got: unknown) => `${name} must be an ISO-8601 time with a zone such as 2026-11-22T08:00:00Z (or a date such as 2026-11-22, midnight UTC), got ${show(got)}`;
  const schema = z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined) return undefined;
      // An unencoded `+01:00` arrives as ` 01:00` (a + in a query string is a space): take it as meant.
      const s = raw.replace(/(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?) (\d{2}:\d{2})$/, '$1+$4');
      const ok = (DATE_ONLY.test(s) || isoDateTime.safeParse(s).success) && !Number.isNaN(Date.parse(s));
      if (!ok) return fail(ctx, raw, message(raw));
      const date = new Date(DATE_ONLY.test(s) ? `${s}T00:00:00Z` : s);
      // Reject impossible dates (2026-02-30 would roll over into March).
      if (DATE_ONLY.test(s) && date.toISOString().slice(0, 10) !== s) return fail(ctx, raw, message(raw));
      return date;
    });
  return withMeta(schema, { description, openapi: { type: 'string', format: 'date-time' }, example: '2026-11-22T08:00:00Z' });
}

/** `true` or `false`; `fallback` when absent. */
export function boolParam(name: string, o: { fallback: boolean; description: string }) {
  const schema = z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined) return o.fallback;
      if (s === 'true') return true;
      if (s === 'false') return false;
      return fail(ctx, s, `${name} must be true or false, got ${show(s)}`);
    });
  return withMeta(schema, { description: o.description, openapi: jsonSchemaOf(z.boolean().default(o.fallback)) });
}

/** One or more of `values`, comma-separated or repeated; undefined when absent. */
export function enumListParam<const T extends readonly [string, ...string[]]>(name: string, values: T, description: string) {
  const one = z.enum(values);
  const schema = z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined) return undefined;
      const items = splitList(s);
      const bad = items.filter((v) => !one.safeParse(v).success);
      if (!items.length || bad.length) {
        const got = items.length ? `unknown value ${bad.map((b) => JSON.stringify(b)).join(', ')}` : 'an empty value';
        return fail(ctx, s, `${name}: ${got} — use one or more of ${values.join(', ')} (comma-separated or repeated)`);
      }
      return [...new Set(items)] as T[number][];
    });
  return withMeta(schema, { description, openapi: jsonSchemaOf(z.array(one).min(1)), list: true, example: [values[0]] });
}

/** One or more free-form names (1–64 characters each), comma-separated or repeated; undefined when absent. */
export function nameListParam(name: string, description: string, example: string) {
  const schema = z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined) return undefined;
      const items = splitList(s);
      if (!items.length || items.some((v) => v.length > 64)) {
        return fail(ctx, s, `${name} must be one or more names of 1–64 characters (comma-separated or repeated), got ${show(s)}`);
      }
      return [...new Set(items)];
    });
  return withMeta(schema, { description, openapi: jsonSchemaOf(z.array(z.string().min(1).max(64)).min(1)), list: true, example: [example] });
}

/** A device id (the protocol's pattern); undefined when absent. */
export function deviceIdParam(description: string) {
  const schema = z
    .string()
    .optional()
    .transform((s, ctx) =>
      s === undefined || DEVICE_ID_PATTERN.test(s)
        ? s
        : fail(ctx, s, `deviceId must be 1–64 characters of A–Z a–z 0–9 . _ - starting with a letter or digit, got ${show(s)}`),
    );
  return withMeta(schema, { description, openapi: { type: 'string', pattern: DEVICE_ID_PATTERN.source }, example: 'veh-0042' });
}

export interface BBox {
  minLon: number;
  minLat: number;
  maxLon: number;
  maxLat: number;
}

/** `minLon,minLat,maxLon,maxLat` in WGS84 degrees; undefined when absent. */
export function bboxParam(description: string) {
  const message = (got: unknown, why: string) =>
    `bbox must be minLon,minLat,maxLon,maxLat in degrees (${why}), such as 4.85,52.35,4.95,52.40; got ${show(got)}`;
  const schema = z
    .string()
    .optional()
    .transform((s, ctx): BBox | undefined => {
      if (s === undefined) return undefined;
      const parts = s.split(',').map((p) => p.trim());
      if (parts.length !== 4 || parts.some((p) => !/^-?(\d+(\.\d*)?|\.\d+)$/.test(p))) return fail(ctx, s, message(s, 'four decimal numbers'));
      const [minLon, minLat, maxLon, maxLat] = parts.map(Number) as [number, number, number, number];
      if ([minLon, maxLon].some((v) => v < -180 || v > 180) || [minLat, maxLat].some((v) => v < -90 || v > 90)) {
        return fail(ctx, s, message(s, 'longitudes −180…180, latitudes −90…90'));
      }
      if (minLon > maxLon || minLat > maxLat) {
        return fail(ctx, s, message(s, 'min ≤ max; a box across the antimeridian is two requests'));
      }
      return { minLon, minLat, maxLon, maxLat };
    });
  return withMeta(schema, {
    description,
    openapi: { type: 'array', items: { type: 'number' }, minItems: 4, maxItems: 4 },
    list: true,
    example: [4.85, 52.35, 4.95, 52.4],
  });
}

/** One of `values`; `fallback` when absent. */
export function enumParam<const T extends readonly [string, ...string[]]>(name: string, values: T, fallback: T[number], description: string) {
  const one = z.enum(values);
  const schema = z
    .string()
    .optional()
    .transform((s, ctx): T[number] => {
      if (s === undefined) return fallback;
      return one.safeParse(s).success ? (s as T[number]) : fail(ctx, s, `${name} must be one of ${values.join(', ')}, got ${show(s)}`);
    });
  return withMeta(schema, { description, openapi: jsonSchemaOf(one.default(fallback)) });
}

/** An opaque token (a cursor); undefined when absent. */
export function opaqueParam(name: string, description: string, emptyHint: string) {
  const schema = z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined) return undefined;
      if (s === '') return fail(ctx, s, `${name} must not be empty; ${emptyHint}`);
      if (s.length > 1024) return fail(ctx, s, `${name} is too long (over 1024 characters); pass back the value the API returned`);
      return s;
    });
  return withMeta(schema, { description, openapi: { type: 'string', maxLength: 1024 } });
}

/** A positive integer id in the path (`/alarms/{id}`). */
export function idPathParam(name: string, what: string, description: string) {
  const schema = z
    .string()
    .transform((s, ctx) => (/^[1-9]\d{0,15}$/.test(s) && Number.isSafeInteger(Number(s)) ? Number(s) : fail(ctx, s, `${name} must be a positive integer (the id of ${what}), got ${show(s)}`)));
  return withMeta(schema, { description, openapi: { type: 'integer', minimum: 1 } });
}

function splitList(s: string): string[] {
  return s
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** The query schema of a route: only its parameters are allowed (a typo is an error, not an ignored filter). */
export function querySchema<Shape extends z.ZodRawShape>(shape: Shape) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys' ? `unknown query parameter ${iss.keys.map((k) => JSON.stringify(k)).join(', ')}: this route takes ${allowed}` : undefined,
  });
}

/** The path-parameter schema of a route. */
export function pathSchema<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.object(shape);
}

/**
 * Validates the query string of `c` against a route's query schema, or throws 400 `invalid_request`
 * naming every problem at once. List parameters may be repeated (`status=a&status=b`, the same as
 * `status=a,b`); any other parameter given twice is an error.
 */
export function parseQuery<S extends z.ZodObject>(c: Context, schema: S): z.output<S> {
  const raw = c.req.queries() as Record<string, string[]>;
  const problems: string[] = [];
  // No prototype: `__proto__`, `constructor`, `toString`… are parameter names like any other (unknown ones).
  const input: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, values] of Object.entries(raw)) {
    const field = (Object.hasOwn(schema.shape, key) ? schema.shape[key] : undefined) as z.ZodType | undefined;
    if (values.some((v) => v.length > MAX_VALUE_LENGTH)) problems.push(`${key} is longer than ${MAX_VALUE_LENGTH} characters`);
    else if (values.some(hasNul)) problems.push(nulProblem(key));
    else if (field && paramMeta(field)?.list) input[key] = values.join(',');
    else if (values.length > 1) problems.push(`${key} given ${values.length} times; give it once`);
    else input[key] = values[0] ?? '';
  }
  const result = schema.safeParse(input);
  if (!result.success) problems.push(...issueLines(result.error));
  if (problems.length) throw new ApiError(400, 'invalid_request', `invalid query: ${problems.join('; ')}`);
  return result.data as z.output<S>;
}

/** Validates path parameters (`c.req.param()`), or throws 400 `invalid_request`. */
export function parsePath<S extends z.ZodObject>(c: Context, schema: S): z.output<S> {
  const params = c.req.param() as Record<string, string>;
  const nul = Object.keys(params).filter((key) => hasNul(params[key]!));
  if (nul.length) throw new ApiError(400, 'invalid_request', `invalid path: ${nul.map(nulProblem).join('; ')}`);
  const result = schema.safeParse(params);
  if (!result.success) throw new ApiError(400, 'invalid_request', `invalid path: ${issueLines(result.error).join('; ')}`);
  return result.data as z.output<S>;
}

/**
 * No parameter may hold a NUL (`%00`): no stored value has one, and Postgres refuses it in text
 * (a query failing with "invalid byte sequence" would be a 500). Checked before any parameter's schema.
 */
const hasNul = (value: string): boolean => value.includes('\u0000');
const nulProblem = (key: string): string => `${key} contains a NUL character (%00)`;

/** Our messages start with the parameter's name; zod's own get it as a prefix. */
function issueLines(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.join('.');
    return !path || issue.message.startsWith(path) ? issue.message : `${path}: ${issue.message}`;
  });
}
