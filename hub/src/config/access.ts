import { asInt, asList, type EnvBinding } from '@roadwatch/shared';
import { z } from 'zod';
import { cidrProblem } from '../api/middleware/ip-allowlist/addresses.js';

/** A list of CIDR blocks; every bad entry is its own issue on the list's path (so the env variable is named). */
const CidrList = z.array(z.string()).superRefine((entries, ctx) => {
  for (const entry of entries) {
    const problem = cidrProblem(entry);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }
});

const originProblem = (origin: string): string | null => {
  if (origin === '*') return null;
  try {
    const url = new URL(origin);
    if ((url.protocol === 'http:' || url.protocol === 'https:') && url.origin === origin) return null;
  } catch {
    /* reported below */
  }
  return `"${origin}" is not an origin: write scheme://host[:port] without a path or trailing slash (for example https://ops.example.org), or * for any`;
};

const OriginList = z.array(z.string()).superRefine((entries, ctx) => {
  for (const entry of entries) {
    const problem = originProblem(entry);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }
});

/** Access control of the REST API (docs/API-ACCESS.md); spread into the hub config schema. */
export const ACCESS_CONFIG_SHAPE = {
  /** CIDR blocks (IPv4/IPv6) allowed to call the API and /metrics; empty allows every address. */
  allowedIps: CidrList.default([]),
  /** CIDR blocks of reverse proxies / load balancers whose X-Forwarded-For is believed. */
  trustedProxies: CidrList.default([]),
  cors: z
    .strictObject({
      /** Browser origins allowed to call the API; [] sends no CORS headers; ['*'] any origin. */
      origins: OriginList.default([]),
    })
    .prefault({}),
  rateLimit: z
    .strictObject({
      /** Requests per minute per API token; 0 turns the limit off. */
      perMinute: z.number().int().min(0).max(1_000_000).default(600),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      /** Require an API token (scope read) on GET /metrics (Prometheus: authorization.credentials). */
      requireToken: z.boolean().default(false),
    })
    .prefault({}),
};

const asBool = (raw: string): unknown => {
  const text = raw.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(text)) return true;
  if (['false', '0', 'no'].includes(text)) return false;
  return raw;
};

export const ACCESS_ENV: readonly EnvBinding[] = [
  { name: 'ALLOWED_IPS', path: ['allowedIps'], parse: asList },
  { name: 'TRUSTED_PROXIES', path: ['trustedProxies'], parse: asList },
  { name: 'ROADWATCH_HUB_CORS_ORIGINS', path: ['cors', 'origins'], parse: asList },
  { name: 'ROADWATCH_HUB_RATE_LIMIT_PER_MINUTE', path: ['rateLimit', 'perMinute'], parse: asInt },
  { name: 'ROADWATCH_HUB_METRICS_REQUIRE_TOKEN', path: ['metrics', 'requireToken'], parse: asBool },
];

/** The access settings createApp needs, from the hub config. */
export interface AccessConfig {
  allowedIps: string[];
  trustedProxies: string[];
  cors: { origins: string[] };
  rateLimit: { perMinute: number };
  metrics: { requireToken: boolean };
}
