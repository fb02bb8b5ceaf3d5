import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, asc, eq, isNull, lte, or } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { API_TOKEN_SCOPES, apiTokens } from '../db/schema.js';
import { ConflictError, InvalidRequestError, NotFoundError } from './errors.js';

/** What a token may do: read < ack < admin (each includes the ones before it). */
export type TokenScope = (typeof API_TOKEN_SCOPES)[number];
export const TOKEN_SCOPES = API_TOKEN_SCOPES;

const RANK: Record<TokenScope, number> = { read: 0, ack: 1, admin: 2 };

/** True when a token of scope `have` may do what needs `need` (admin can do everything, ack can read). */
export function scopeAllows(have: TokenScope, need: TokenScope): boolean {
  return RANK[have] >= RANK[need];
}

export function isTokenScope(value: unknown): value is TokenScope {
  return typeof value === 'string' && (TOKEN_SCOPES as readonly string[]).includes(value);
}

/** Every token starts with this, so a leaked one is easy to spot (secret scanners, logs). */
export const TOKEN_PREFIX = 'rwt_';
const TOKEN_BYTES = 32;
/** `rwt_` + base64url of 32 bytes. */
const TOKEN_PATTERN = /^rwt_[A-Za-z0-9_-]{43}$/;
/** Characters kept in clear to tell tokens apart in lists: `rwt_` + 8 (48 of the 256 random bits). */
const DISPLAY_PREFIX_LENGTH = TOKEN_PREFIX.length + 8;
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** last_used_at is written at most this often per token, so verification stays a read. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** Who is calling: what handlers record (e.g. who acknowledged an alarm). */
export interface TokenIdentity {
  id: string;
  name: string;
  scope: TokenScope;
}

export interface TokenSummary extends TokenIdentity {
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** What `create` returns: the summary and, this one time, the token itself. */
export interface CreatedToken extends TokenSummary {
  token: string;
}

/** Checks presented tokens (the HTTP layer's view of the service). */
export interface TokenVerifier {
  verify(token: string): Promise<TokenIdentity | null>;
}

/** Issues, lists and revokes tokens (the operator CLI's view; also served by the local admin API). */
export interface TokenAdmin {
  create(input: { name: string; scope: TokenScope }): Promise<CreatedToken>;
  list(): Promise<TokenSummary[]>;
  /** By name, or by id; revoking a revoked token is a no-op that returns it. */
  revoke(nameOrId: string): Promise<TokenSummary>;
}

export interface TokenServiceDeps {
  db: Db;
  logger: Logger;
  clock?: () => Date;
}

const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/**
 * API tokens for the REST API. A token is 256 random bits (`rwt_` + base64url), shown once; only its
 * sha256 is stored (a slow KDF buys nothing for a 256-bit random secret) plus a short prefix for lists.
 * Verification looks the hash up by its unique index and compares it in constant time; revocation
 * takes effect at once on every replica because nothing is cached.
 */
export class TokenService implements TokenVerifier, TokenAdmin {
  private readonly db: Db;
  private readonly logger: Logger;
  private readonly clock: () => Date;

  constructor(deps: TokenServiceDeps) {
    this.db = deps.db;
    this.logger = deps.logger.child({ svc: 'tokens' });
    this.clock = deps.clock ?? (() => new Date());
  }

  async create({ name, scope }: { name: string; scope: TokenScope }): Promise<CreatedToken> {
    const problems: string[] = [];
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
      problems.push(`invalid token name "${String(name)}": 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
    }
    if (!isTokenScope(scope)) problems.push(`invalid scope "${String(scope)}": one of ${TOKEN_SCOPES.join(', ')}`);
    if (problems.length) throw new InvalidRequestError(problems.join('; '));
    const token = `${TOKEN_PREFIX}${randomBytes(TOKEN_BYTES).toString('base64url')}`;
    const [row] = await this.db
      .insert(apiTokens)
      .values({ name, scope, tokenHash: hashToken(token), prefix: token.slice(0, DISPLAY_PREFIX_LENGTH), createdAt: this.clock() })
      .onConflictDoNothing({ target: apiTokens.name })
      .returning();
    if (!row) throw new ConflictError(`a token named ${name} already exists (names stay taken after revoke, for the record); choose another name`);
    this.logger.info({ tokenId: row.id, name, scope }, 'api token created');
    return { ...toSummary(row), token };
  }

  async list(): Promise<TokenSummary[]> {
    const rows = await this.db.select().from(apiTokens).orderBy(asc(apiTokens.createdAt), asc(apiTokens.name));
    return rows.map(toSummary);
  }

  async revoke(nameOrId: string): Promise<TokenSummary> {
    // No token has another name (and Postgres refuses some, such as one with a NUL, as text).
    if (!NAME_PATTERN.test(nameOrId) && !UUID_PATTERN.test(nameOrId)) throw new NotFoundError(`no token named ${nameOrId}`);
    const match = UUID_PATTERN.test(nameOrId) ? or(eq(apiTokens.name, nameOrId), eq(apiTokens.id, nameOrId)) : eq(apiTokens.name, nameOrId);
    const [revoked] = await this.db
      .update(apiTokens)
      .set({ revokedAt: this.clock() })
      .where(and(match, isNull(apiTokens.revokedAt)))
      .returning();
    if (revoked) {
      this.logger.info({ tokenId: revoked.id, name: revoked.name }, 'api token revoked');
      return toSummary(revoked);
    }
    const [existing] = await this.db.select().from(apiTokens).where(match);
    if (!existing) throw new NotFoundError(`no token named ${nameOrId}`);
    return toSummary(existing);
  }

  async verify(token: string): Promise<TokenIdentity | null> {
    if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) return null;
    const presented = hashToken(token);
    const [row] = await this.db
      .select({ id: apiTokens.id, name: apiTokens.name, scope: apiTokens.scope, tokenHash: apiTokens.tokenHash, lastUsedAt: apiTokens.lastUsedAt, revokedAt: apiTokens.revokedAt })
      .from(apiTokens)
      .where(eq(apiTokens.tokenHash, presented));
    if (!row || !timingSafeEqual(Buffer.from(row.tokenHash), Buffer.from(presented))) return null;
    if (row.revokedAt !== null || !isTokenScope(row.scope)) return null;
    const now = this.clock();
    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
      const staleBefore = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
      // Best effort: a failed bookkeeping write must not turn a valid token away.
      await this.db
        .update(apiTokens)
        .set({ lastUsedAt: now })
        .where(and(eq(apiTokens.id, row.id), or(isNull(apiTokens.lastUsedAt), lte(apiTokens.lastUsedAt, staleBefore))))
        .catch((err: unknown) => this.logger.warn({ err, tokenId: row.id }, 'could not record the token use'));
    }
    return { id: row.id, name: row.name, scope: row.scope };
  }
}

function toSummary(row: typeof apiTokens.$inferSelect): TokenSummary {
  return {
    id: row.id,
    name: row.name,
    scope: isTokenScope(row.scope) ? row.scope : 'read',
    prefix: row.prefix,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt ? row.lastUsedAt.toISOString() : null,
    revokedAt: row.revokedAt ? row.revokedAt.toISOString() : null,
  };
}
