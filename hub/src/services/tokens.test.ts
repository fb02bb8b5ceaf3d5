import { UserError } from '@roadwatch/shared';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubDatabase } from '../db/client.js';
import { execRows } from '../db/rows.js';
import { testDatabases, testLogger } from '../db/testing/databases.js';
import { ConflictError, NotFoundError } from './errors.js';
import { LAST_USED_RESOLUTION_MS, scopeAllows, TokenService } from './tokens.js';

describe('scopeAllows', () => {
  it('orders read < ack < admin', () => {
    expect(scopeAllows('read', 'read')).toBe(true);
    expect(scopeAllows('read', 'ack')).toBe(false);
    expect(scopeAllows('ack', 'read')).toBe(true);
    expect(scopeAllows('ack', 'admin')).toBe(false);
    expect(scopeAllows('admin', 'ack')).toBe(true);
    expect(scopeAllows('admin', 'admin')).toBe(true);
  });
});

describe.each(testDatabases())('TokenService on $name', ({ open }) => {
  let database: HubDatabase;
  let tokens: TokenService;
  let now = new Date('2026-11-22T08:00:00.000Z');
  const clock = () => now;

  beforeAll(async () => {
    database = await open();
    tokens = new TokenService({ db: database.db, logger: testLogger(), clock });
  });
  afterAll(async () => {
    await database?.close();
  });

  it('creates a high-entropy token, stores only its sha256 and a short prefix, and verifies it', async () => {
    const created = await tokens.create({ name: 'dashboard', scope: 'read' });
    expect(created.token).toMatch(/^rwt_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(created.token.slice(4), 'base64url')).toHaveLength(32);
    expect(created).toMatchObject({ name: 'dashboard', scope: 'read', prefix: created.token.slice(0, 12), createdAt: now.toISOString(), lastUsedAt: null, revokedAt: null });
    const rows = await execRows<{ token_hash: string; prefix: string }>(database.db, sql`select token_hash, prefix from api_tokens where name = 'dashboard'`);
    expect(rows[0]!.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]!.token_hash).not.toContain(created.token.slice(4));
    expect(rows[0]!.prefix).toBe(created.token.slice(0, 12));
    expect(await tokens.verify(created.token)).toEqual({ id: created.id, name: 'dashboard', scope: 'read' });
  });

  it('refuses unknown, malformed and almost-right tokens', async () => {
    const { token } = await tokens.create({ name: 'ops', scope: 'ack' });
    const flipped = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    for (const bad of [flipped, '', 'rwt_', token.slice(4), `${token}x`, token.toUpperCase(), `rwt_${'A'.repeat(43)}`]) {
      expect(await tokens.verify(bad)).toBeNull();
    }
    expect(await tokens.verify(token)).toMatchObject({ name: 'ops', scope: 'ack' });
  });

  it('refuses a duplicate name, a bad name and a bad scope with clear errors', async () => {
    await tokens.create({ name: 'dup', scope: 'read' });
    await expect(tokens.create({ name: 'dup', scope: 'admin' })).rejects.toBeInstanceOf(ConflictError);
    const bad = await tokens.create({ name: 'no spaces', scope: 'root' as never }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(UserError);
    expect((bad as Error).message).toContain('invalid token name "no spaces"');
    expect((bad as Error).message).toContain('invalid scope "root": one of read, ack, admin');
  });

  it('records last use at most once a minute', async () => {
    const { token } = await tokens.create({ name: 'poller', scope: 'read' });
    const lastUsed = async () => (await tokens.list()).find((t) => t.name === 'poller')!.lastUsedAt;
    const t0 = now;
    await tokens.verify(token);
    expect(await lastUsed()).toBe(t0.toISOString());
    now = new Date(t0.getTime() + LAST_USED_RESOLUTION_MS - 1);
    await tokens.verify(token);
    expect(await lastUsed()).toBe(t0.toISOString());
    now = new Date(t0.getTime() + LAST_USED_RESOLUTION_MS);
    await tokens.verify(token);
    expect(await lastUsed()).toBe(now.toISOString());
  });

  it('revokes by name or by id: the token stops working at once; revoking again is harmless; unknown is not found', async () => {
    const a = await tokens.create({ name: 'laptop', scope: 'admin' });
    const b = await tokens.create({ name: 'kiosk', scope: 'read' });
    const revoked = await tokens.revoke('laptop');
    expect(revoked).toMatchObject({ id: a.id, name: 'laptop', revokedAt: now.toISOString() });
    expect(await tokens.verify(a.token)).toBeNull();
    expect(await tokens.revoke(b.id)).toMatchObject({ name: 'kiosk', revokedAt: expect.any(String) });
    expect(await tokens.verify(b.token)).toBeNull();
    expect(await tokens.revoke('laptop')).toMatchObject({ revokedAt: revoked.revokedAt });
    await expect(tokens.revoke('nobody')).rejects.toBeInstanceOf(NotFoundError);
    await expect(tokens.revoke('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundError);
    // Found by fuzzing: a name no token can have (here with a NUL, which Postgres refuses as text) was a database error, a 500.
    await expect(tokens.revoke('a\u0000b')).rejects.toBeInstanceOf(NotFoundError);
    // A revoked token keeps its name (the record says who had it).
    await expect(tokens.create({ name: 'laptop', scope: 'read' })).rejects.toBeInstanceOf(ConflictError);
  });

  it('lists every token without the token itself', async () => {
    const list = await tokens.list();
    expect(list.map((t) => t.name)).toEqual(expect.arrayContaining(['dashboard', 'ops', 'dup', 'poller', 'laptop', 'kiosk']));
    for (const item of list) {
      expect(Object.keys(item).sort()).toEqual(['createdAt', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'scope']);
    }
    expect(list.find((t) => t.name === 'laptop')!.revokedAt).not.toBeNull();
    expect(list.find((t) => t.name === 'dashboard')!.revokedAt).toBeNull();
  });
});
