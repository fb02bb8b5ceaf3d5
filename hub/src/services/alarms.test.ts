import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HubDatabase } from '../db/client.js';
import { execRows } from '../db/rows.js';
import { testDatabases, testLogger } from '../db/testing/databases.js';
import type { RaiseAlarmInput } from './alarm-types.js';
import { AlarmService } from './alarms.js';
import { ConflictError, InvalidRequestError, NotFoundError } from './errors.js';

describe.each(testDatabases())('AlarmService on $name', ({ open }) => {
  let database: HubDatabase;
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
});
