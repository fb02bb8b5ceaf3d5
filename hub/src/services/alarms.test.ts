import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HubDatabase } from '../db/client.js';
import { execRows } from '../db/rows.js';
import { testDatabases, testLogger } from '../db/testing/databases.js';
import type { RaiseAlarmInput } from './alarm-types.js';
import { AlarmService } from './alarms.js';
import { ConflictError, InvalidRequestError, NotFoundError } from './errors.js';

describe.each(testDatabases())('AlarmService on $name', ({ name, open }) => {
  let database: HubDatabase & { url?: string };
  let alarms: AlarmService;
  let now: Date;
  const tick = (s = 1) => (now = new Date(now.getTime() + s * 1000));

  beforeAll(async () => {
    database = await open();
  });
  afterAll(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    await database.db.execute(sql`truncate alarms restart identity`);
    now = new Date('2026-11-22T08:00:00.000Z');
    alarms = new AlarmService({ db: database.db, logger: testLogger(), clock: () => now });
  });

  const offline = (over: Partial<RaiseAlarmInput> = {}): RaiseAlarmInput => ({
    type: 'device_offline',
    source: 'veh-1',
    deviceId: 'veh-1',
    severity: 'warning',
    message: 'veh-1 is offline',
    details: { reason: 'silent' },
    ...over,
  });

  it('raise opens once per (type, source): the same content changes nothing, new content re-fires', async () => {
    const first = await alarms.raise(offline());
    expect(first.outcome).toBe('created');
    expect(first.alarm).toMatchObject({ type: 'device_offline', source: 'veh-1', deviceId: 'veh-1', status: 'active_unack', count: 1, severity: 'warning' });
    expect(first.alarm.createdAt).toBe('2026-11-22T08:00:00.000Z');

    tick();
    const same = await alarms.raise(offline());
    expect(same).toEqual({ outcome: 'unchanged', alarm: first.alarm });

    tick();
    const again = await alarms.raise(offline({ severity: 'major', details: { reason: 'disconnected' } }));
    expect(again.outcome).toBe('refired');
    expect(again.alarm).toMatchObject({ id: first.alarm.id, count: 2, severity: 'major', details: { reason: 'disconnected' }, createdAt: first.alarm.createdAt });
    expect(again.alarm.lastSeenAt).toBe('2026-11-22T08:00:02.000Z');

    const other = await alarms.raise(offline({ source: 'veh-2', deviceId: 'veh-2' }));
    expect(other.outcome).toBe('created');
    expect(other.alarm.id).not.toBe(first.alarm.id);
  });

  it('raiseMany writes like raise, in one statement: new ones created, changed ones re-fired, the rest untouched', async () => {
    expect(await alarms.raiseMany([])).toEqual({ created: 0, refired: 0 });
    const { alarm: existing } = await alarms.raise(offline());
    tick();
    const inputs = [
      offline(), // unchanged
      offline({ source: 'veh-2', deviceId: 'veh-2', message: 'first' }),
      offline({ source: 'veh-2', deviceId: 'veh-2', message: 'veh-2 is offline' }), // same source again: the later wins
      offline({ source: 'veh-3', deviceId: 'veh-3' }),
    ];
    expect(await alarms.raiseMany(inputs)).toEqual({ created: 2, refired: 0 });
    expect(await alarms.findOpen('device_offline', 'veh-1')).toEqual(existing);
    expect((await alarms.findOpen('device_offline', 'veh-2'))?.message).toBe('veh-2 is offline');

    tick();
    expect(await alarms.raiseMany([offline({ severity: 'major' }), offline({ source: 'veh-3', deviceId: 'veh-3' })])).toEqual({ created: 0, refired: 1 });
    expect(await alarms.findOpen('device_offline', 'veh-1')).toMatchObject({ id: existing.id, count: 2, severity: 'major' });
  });

  it('lifecycle: active_unack → active_ack → cleared, and each wrong transition is a ConflictError', async () => {
    const { alarm } = await alarms.raise(offline());
    tick();
    const acked = await alarms.ack(alarm.id, 'alice');
    expect(acked).toMatchObject({ status: 'active_ack', ackedBy: 'alice', ackedAt: '2026-11-22T08:00:01.000Z' });
    await expect(alarms.ack(alarm.id, 'bob')).rejects.toThrow(ConflictError);
    await expect(alarms.ack(alarm.id, 'bob')).rejects.toThrow(/already acknowledged/);

    // A re-fire keeps the acknowledgement.
    expect((await alarms.raise(offline({ message: 'still offline' }))).alarm).toMatchObject({ status: 'active_ack', count: 2 });

    tick();
    const cleared = await alarms.clear(alarm.id, 'carol');
    expect(cleared).toMatchObject({ status: 'cleared', clearedBy: 'carol', clearedAt: '2026-11-22T08:00:02.000Z', ackedBy: 'alice' });
    await expect(alarms.clear(alarm.id, 'carol')).rejects.toThrow(/already cleared/);
    await expect(alarms.clear(alarm.id, 'carol')).rejects.toBeInstanceOf(ConflictError);
    await expect(alarms.ack(alarm.id, 'dave')).rejects.toThrow(/is cleared/);
    expect(await alarms.get(alarm.id)).toEqual(cleared);
  });

  it('clears straight from active_unack; after a clear the next raise opens a new alarm', async () => {
    const { alarm } = await alarms.raise(offline());
    expect((await alarms.clear(alarm.id, 'ops')).status).toBe('cleared');
    const next = await alarms.raise(offline());
    expect(next.outcome).toBe('created');
    expect(next.alarm.id).toBeGreaterThan(alarm.id);
    expect(await alarms.clearOpen('device_offline', 'veh-1', 'system:rules')).toMatchObject({ id: next.alarm.id, status: 'cleared' });
    expect(await alarms.clearOpen('device_offline', 'veh-1', 'system:rules')).toBeNull();
  });

  it('unknown ids are NotFoundError', async () => {
    await expect(alarms.get(999)).rejects.toBeInstanceOf(NotFoundError);
    await expect(alarms.ack(999, 'x')).rejects.toBeInstanceOf(NotFoundError);
    await expect(alarms.clear(999, 'x')).rejects.toBeInstanceOf(NotFoundError);
    await expect(alarms.get(-1)).rejects.toThrow('alarm -1 not found');
  });

  it('the database refuses a second open alarm for one (type, source), however it is written', async () => {
    await alarms.raise(offline());
    const err = await database.db
      .execute(sql`insert into alarms (type, source, severity, message) values ('device_offline', 'veh-1', 'minor', 'dup')`)
      .catch((e: unknown) => e);
    const code = (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
    expect(code).toBe('23505');
    // A cleared one beside an open one is fine.
    await database.db.execute(sql`insert into alarms (type, source, severity, message, status) values ('device_offline', 'veh-1', 'minor', 'old', 'cleared')`);
  });

  it('concurrent raises of one (type, source) meet on one open alarm', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => alarms.raise(offline({ details: { n: i } }))));
    expect(new Set(results.map((r) => r.alarm.id)).size).toBe(1);
    expect(results.filter((r) => r.outcome === 'created')).toHaveLength(1);
    const rows = await execRows<{ n: number; count: number }>(database.db, sql`select count(*)::int as n, max(count)::int as count from alarms`);
    expect(rows[0]).toEqual({ n: 1, count: 12 });
  });

  it('lists newest first with filters, paging and latest per (type, source)', async () => {
    const a = (await alarms.raise(offline())).alarm; // veh-1 offline, cleared below
    tick();
    await alarms.clear(a.id, 'ops');
    tick();
    const b = (await alarms.raise(offline())).alarm; // veh-1 offline again, open
    tick();
    const c = (await alarms.raise({ type: 'hotspot', source: '891969c9b23ffff', severity: 'major', message: 'hot' })).alarm;
    tick();
    const d = (await alarms.raise(offline({ type: 'outbox_backlog', severity: 'minor' }))).alarm;
    await alarms.ack(d.id, 'ops');

    const ids = async (q: Parameters<AlarmService['list']>[0]) => (await alarms.list(q)).items.map((x) => x.id);
    expect(await ids({})).toEqual([d.id, c.id, b.id, a.id]);
    expect(await alarms.list({ limit: 2, offset: 1 })).toMatchObject({ total: 4, limit: 2, offset: 1, items: [{ id: c.id }, { id: b.id }] });
    expect(await ids({ latest: true })).toEqual([d.id, c.id, b.id]);
    expect(await ids({ latest: true, status: 'cleared' })).toEqual([]);
    expect(await ids({ status: 'cleared' })).toEqual([a.id]);
    expect(await ids({ status: ['active_unack', 'active_ack'] })).toEqual([d.id, c.id, b.id]);
    expect(await ids({ severity: 'major' })).toEqual([c.id]);
    expect(await ids({ type: 'device_offline' })).toEqual([b.id, a.id]);
    expect(await ids({ deviceId: 'veh-1' })).toEqual([d.id, b.id, a.id]);
    expect(await ids({ deviceId: 'veh-1', latest: true, type: 'device_offline' })).toEqual([b.id]);

    await expect(alarms.list({ limit: 0 })).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(alarms.list({ limit: 1001 })).rejects.toThrow(/limit must be an integer from 1 to 1000/);
    await expect(alarms.list({ offset: -1 })).rejects.toThrow(/offset/);
    await expect(alarms.list({ status: 'open' as never })).rejects.toThrow(/status: unknown value "open"/);
  });

  /** latest=true as it was computed before the `latest` column: DISTINCT ON over the whole history. */
  const oracle = async (filters: string) =>
    execRows<{ id: number }>(
      database.db,
      sql.raw(`select id::int as id from (select distinct on (type, source) * from alarms order by type, source, created_at desc, id desc) a
               ${filters ? `where ${filters}` : ''} order by created_at desc, id desc`),
    );
  const latestFilters: Array<[Parameters<AlarmService['list']>[0], string]> = [
    [{}, ''],
    [{ status: 'cleared' }, `status = 'cleared'`],
    [{ status: ['active_unack', 'active_ack'] }, `status in ('active_unack', 'active_ack')`],
    [{ type: 'hotspot', severity: ['major', 'critical'] }, `type = 'hotspot' and severity in ('major', 'critical')`],
    [{ deviceId: 'veh-2' }, `device_id = 'veh-2'`],
  ];
  const expectLatestAsOracle = async () => {
    for (const [query, filters] of latestFilters) {
      const expected = (await oracle(filters)).map((r) => r.id);
      const page = await alarms.list({ ...query, latest: true, limit: 1000 });
      expect(page.items.map((a) => a.id)).toEqual(expected);
      expect(page.total).toBe(expected.length);
      const second = await alarms.list({ ...query, latest: true, limit: 2, offset: 2 });
      expect(second.items.map((a) => a.id)).toEqual(expected.slice(2, 4));
    }
    // One latest per (type, source), however many alarms it has had.
    const perSource = await execRows<{ n: number }>(database.db, sql`select count(*) filter (where latest)::int as n from alarms group by type, source`);
    expect(perSource.every((r) => r.n === 1)).toBe(true);
  };

  it('latest=true is the newest alarm of each (type, source) through raise, clear, bulk and direct writes, deletes and backdating', async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('raise' as const), source: fc.integer({ min: 0, max: 4 }), type: fc.constantFrom('device_offline', 'hotspot') as fc.Arbitrary<'device_offline' | 'hotspot'>, severity: fc.constantFrom('major', 'minor') as fc.Arbitrary<'major' | 'minor'> }),
      fc.record({ kind: fc.constant('raiseMany' as const), sources: fc.uniqueArray(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }) }),
      fc.record({ kind: fc.constant('clear' as const), source: fc.integer({ min: 0, max: 4 }) }),
      fc.record({ kind: fc.constant('ack' as const), source: fc.integer({ min: 0, max: 4 }) }),
      // Cleared history written straight into the table, several rows of one source in one statement, some backdated.
      fc.record({ kind: fc.constant('insert' as const), source: fc.integer({ min: 0, max: 4 }), ages: fc.array(fc.integer({ min: -3, max: 600 }), { minLength: 1, maxLength: 3 }) }),
      fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('backdate' as const), pick: fc.nat(), seconds: fc.integer({ min: -900, max: 900 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
        await database.db.execute(sql`truncate alarms restart identity`);
        for (const o of ops) {
          tick();
          if (o.kind === 'raise') await alarms.raise(offline({ type: o.type, source: `veh-${o.source}`, deviceId: `veh-${o.source}`, severity: o.severity, details: { at: now.toISOString() } }));
          else if (o.kind === 'raiseMany') await alarms.raiseMany(o.sources.map((i) => offline({ source: `veh-${i}`, deviceId: `veh-${i}`, details: { at: now.toISOString() } })));
          else if (o.kind === 'clear') await alarms.clearOpen('device_offline', `veh-${o.source}`, 'ops');
          else if (o.kind === 'ack') {
            const open = await alarms.findOpen('device_offline', `veh-${o.source}`);
            if (open?.status === 'active_unack') await alarms.ack(open.id, 'ops');
          } else if (o.kind === 'insert') {
            const values = o.ages.map((age) => sql`('device_offline', ${`veh-${o.source}`}, ${`veh-${o.source}`}, 'minor', 'cleared', 'old', ${new Date(now.getTime() - age * 1000).toISOString()}::timestamptz)`);
            await database.db.execute(sql`insert into alarms (type, source, device_id, severity, status, message, created_at) values ${sql.join(values, sql`, `)}`);
          } else {
            const ids = (await execRows<{ id: number }>(database.db, sql`select id::int as id from alarms order by id`)).map((r) => r.id);
            if (!ids.length) continue;
            const id = ids[o.pick % ids.length]!;
            if (o.kind === 'delete') await database.db.execute(sql`delete from alarms where id = ${id}`);
            else await database.db.execute(sql`update alarms set created_at = created_at + ${`${o.seconds} seconds`}::interval where id = ${id}`);
          }
        }
        await expectLatestAsOracle();
      }),
      { numRuns: 30 },
    );
  });

  it('latest=true reads the current alarms only, not the history', async () => {
    // 1,500 cleared alarms of one source, then one open one: the page and the count walk one index entry.
    await database.db.execute(sql`insert into alarms (type, source, device_id, severity, status, message, created_at)
      select 'device_offline', 'veh-1', 'veh-1', 'minor', 'cleared', 'old', ${now.toISOString()}::timestamptz - g * interval '1 minute' from generate_series(1, 1500) g`);
    const open = (await alarms.raise(offline())).alarm;
    expect(await alarms.list({ latest: true })).toMatchObject({ total: 1, items: [{ id: open.id }] });
    await alarms.clear(open.id, 'ops');
    expect(await alarms.list({ latest: true, status: 'cleared' })).toMatchObject({ total: 1, items: [{ id: open.id, status: 'cleared' }] });
    expect((await alarms.list({ status: 'cleared' })).total).toBe(1501);
  });

  it.runIf(name === 'postgres')('a re-fire is a HOT update: no alarm index is written', async () => {
    await alarms.raise(offline());
    const updates = async () => {
      await database.db.execute(sql`select pg_stat_force_next_flush()`);
      const [row] = await execRows<{ upd: string; hot: string }>(database.db, sql`select n_tup_upd::text as upd, n_tup_hot_upd::text as hot from pg_stat_user_tables where relname = 'alarms'`);
      return { upd: Number(row!.upd), hot: Number(row!.hot) };
    };
    const before = await updates();
    for (let i = 0; i < 20; i++) {
      tick();
      expect((await alarms.raise(offline({ details: { sighting: i } }))).outcome).toBe('refired');
    }
    const after = await updates();
    expect(after.upd - before.upd).toBe(20);
    expect(after.hot - before.hot).toBe(20);
  });

  it.runIf(name === 'postgres')('concurrent writers of one (type, source) in separate transactions still leave one latest', async () => {
    // Each takes the key's advisory lock before looking, so the next one waits for the commit and then sees
    // its row: with a latest row there before (veh-9) and for a key's very first rows (veh-10), several rounds.
    await database.db.execute(sql`insert into alarms (type, source, severity, status, message, created_at) values ('device_offline', 'veh-9', 'minor', 'cleared', 'first', now() - interval '1 hour')`);
    const pool = new pg.Pool({ connectionString: database.url!, max: 8 });
    try {
      for (let round = 0; round < 3; round++) {
        for (const source of ['veh-9', `veh-1${round}`]) {
          await Promise.all(
            Array.from({ length: 8 }, async (_, i) => {
              const client = await pool.connect();
              try {
                await client.query('begin');
                await client.query(`insert into alarms (type, source, severity, status, message, created_at) values ('device_offline', $2, 'minor', 'cleared', 'c', now() + $1 * interval '1 second')`, [i % 3 === 0 ? -i : i, source]);
                await client.query('select pg_sleep(0.02)');
                await client.query('commit');
              } finally {
                client.release();
              }
            }),
          );
        }
      }
    } finally {
      await pool.end();
    }
    await expectLatestAsOracle();
  });
});
