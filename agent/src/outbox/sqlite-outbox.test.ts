import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventSchema, UserError, uuidV7Time } from '@roadwatch/shared';
import { SCHEMA_VERSION } from './migrations.js';
import { outboxPath } from './paths.js';
import { SqliteOutbox, type SqliteOutboxOptions } from './sqlite-outbox.js';
import { sampleEvent, sampleEvents } from './testing/sample-events.js';

const HOUR = 3_600_000;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let dir: string;
let file: string;
let logs: Array<Record<string, unknown>>;
const open: SqliteOutbox[] = [];

function openOutbox(options: Partial<SqliteOutboxOptions> = {}): SqliteOutbox {
  const logger = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) });
  const outbox = new SqliteOutbox({ path: file, logger, maxBytes: 1024 ** 3, maxAgeMs: 1000 * HOUR, ...options });
  open.push(outbox);
  return outbox;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'roadwatch-outbox-'));
  file = outboxPath(join(dir, 'nested', 'data'));
  logs = [];
});

afterEach(() => {
  for (const outbox of open.splice(0)) outbox.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteOutbox append', () => {
  it('assigns UUIDv7 ids and consecutive seqs, persisted before append returns', () => {
    const before = Date.now();
    const outbox = openOutbox();
    const events = outbox.append(sampleEvents(3));
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    for (const event of events) {
      expect(event.eventId).toMatch(UUID_V7);
      expect(uuidV7Time(event.eventId)).toBeGreaterThanOrEqual(before);
      expect(EventSchema.parse(event)).toEqual(event);
    }
    expect(new Set(events.map((e) => e.eventId)).size).toBe(3);

    // A separate connection sees the rows at once: they were committed inside append().
    const raw = new Database(file, { readonly: true });
    const rows = raw.prepare('SELECT seq, event_id, payload, bytes FROM events ORDER BY seq').all() as Array<{ seq: number; event_id: string; payload: string; bytes: number }>;
    raw.close();
    expect(rows.map((r) => r.event_id)).toEqual(events.map((e) => e.eventId));
    for (const [i, row] of rows.entries()) {
      expect(JSON.parse(row.payload)).toEqual(events[i]);
      expect(row.bytes).toBe(Buffer.byteLength(row.payload));
    }
  });

  it('applies schema defaults (hits) and keeps eventId and seq first in the payload', () => {
    const outbox = openOutbox();
    const { hits: _omitted, ...body } = sampleEvent(0);
    const [event] = outbox.append([body]);
    expect(event!.hits).toBe(1);
    const [row] = outbox.readAfter(0, 1, 1e9);
    expect(row!.payload.startsWith(`{"eventId":"${event!.eventId}","seq":1,`)).toBe(true);
  });

  it('refuses a batch with an invalid event, naming the field, and stores nothing', () => {
    const outbox = openOutbox();
    const bad = [sampleEvent(0), sampleEvent(1, { lat: 95 })];
    expect(() => outbox.append(bad)).toThrow(UserError);
    expect(() => outbox.append(bad)).toThrow(/event 2 of 2 is invalid: lat: lat out of range/);
    expect(() => outbox.append([{ ...sampleEvent(0), seq: 4 } as never])).toThrow(/seq/);
    expect(outbox.stats().depth).toBe(0);
  });

  it('keeps seq monotonic across reopen and after every row was deleted', () => {
    let outbox = openOutbox();
    outbox.append(sampleEvents(3));
    outbox.close();

    outbox = openOutbox();
    expect(outbox.append(sampleEvents(2)).map((e) => e.seq)).toEqual([4, 5]);
    expect(outbox.settle(1, 5, 1000)).toBe(5);
    expect(outbox.stats()).toMatchObject({ depth: 0, bytes: 0, newestSeq: null, oldestCreatedAt: null });
    expect(outbox.append(sampleEvents(1)).map((e) => e.seq)).toEqual([6]);
    outbox.settle(6, 6, 2000);
    outbox.close();

    outbox = openOutbox();
    expect(outbox.append(sampleEvents(1)).map((e) => e.seq)).toEqual([7]);
  });

  it('accepts an empty batch without touching the file', () => {
    const outbox = openOutbox();
    expect(outbox.append([])).toEqual([]);
    expect(outbox.stats().newestSeq).toBeNull();
  });
});

describe('SqliteOutbox readAfter', () => {
  it('returns rows in seq order within the count and byte limits, always at least one', () => {
    const outbox = openOutbox();
    outbox.append(sampleEvents(10));
    const all = outbox.readAfter(0, 100, Number.MAX_SAFE_INTEGER);
    expect(all.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    expect(outbox.readAfter(0, 3, 1e9).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(outbox.readAfter(7, 100, 1e9).map((r) => r.seq)).toEqual([8, 9, 10]);

    const twoRows = all[3]!.bytes + all[4]!.bytes;
    expect(outbox.readAfter(3, 100, twoRows).map((r) => r.seq)).toEqual([4, 5]);
    expect(outbox.readAfter(3, 100, twoRows + all[5]!.bytes - 1).map((r) => r.seq)).toEqual([4, 5]);
    expect(outbox.readAfter(0, 100, 1).map((r) => r.seq)).toEqual([1]);
    expect(outbox.readAfter(10, 100, 1e9)).toEqual([]);

    const [row] = all;
    expect(row).toMatchObject({ seq: 1, bytes: Buffer.byteLength(row!.payload) });
    expect(typeof row!.eventId).toBe('string');
    expect(typeof row!.createdAt).toBe('number');
  });
});

describe('SqliteOutbox waitingAfter', () => {
  it('counts what readAfter would return and says whether it fills a batch, by count or by bytes', () => {
    const outbox = openOutbox();
    expect(outbox.waitingAfter(0, 5, 1e9)).toEqual({ events: 0, full: false });
    outbox.append(sampleEvents(10));
    const all = outbox.readAfter(0, 100, 1e9);
    expect(outbox.waitingAfter(0, 100, 1e9)).toEqual({ events: 10, full: false });
    expect(outbox.waitingAfter(0, 10, 1e9)).toEqual({ events: 10, full: true });
    expect(outbox.waitingAfter(7, 5, 1e9)).toEqual({ events: 3, full: false });
    expect(outbox.waitingAfter(10, 5, 1e9)).toEqual({ events: 0, full: false });
    // By bytes: full exactly when readAfter would cut the rows short of the count.
    const three = all[0]!.bytes + all[1]!.bytes + all[2]!.bytes;
    expect(outbox.waitingAfter(0, 3, three)).toEqual({ events: 3, full: true });
    expect(outbox.waitingAfter(0, 4, three)).toEqual({ events: 4, full: true });
    expect(outbox.readAfter(0, 4, three)).toHaveLength(3);
    const lastThree = all[7]!.bytes + all[8]!.bytes + all[9]!.bytes;
    expect(outbox.waitingAfter(7, 5, lastThree)).toEqual({ events: 3, full: false });
    expect(outbox.readAfter(7, 5, lastThree)).toHaveLength(3);
    expect(outbox.waitingAfter(7, 5, lastThree - 1)).toEqual({ events: 3, full: true });
    expect(outbox.readAfter(7, 5, lastThree - 1)).toHaveLength(2);
    expect(outbox.waitingAfter(0, 0, 1e9)).toEqual({ events: 0, full: false });
  });
});

describe('SqliteOutbox settle', () => {
  it('deletes the inclusive range, updates totals and records the ack time', () => {
    const outbox = openOutbox({ clock: () => 5_000 });
    outbox.append(sampleEvents(6));
    const rows = outbox.readAfter(0, 100, 1e9);
    expect(outbox.stats().lastAckAt).toBeNull();

    expect(outbox.settle(2, 4, 9_000)).toBe(3);
    expect(outbox.readAfter(0, 100, 1e9).map((r) => r.seq)).toEqual([1, 5, 6]);
    const kept = [rows[0]!, rows[4]!, rows[5]!].reduce((sum, r) => sum + r.bytes, 0);
    expect(outbox.stats()).toEqual({ depth: 3, bytes: kept, oldestCreatedAt: 5_000, newestSeq: 6, lastAckAt: 9_000, evictedTotal: 0 });

    expect(outbox.settle(2, 4, 8_000)).toBe(0); // a redelivered ack: nothing left, ack time never moves back
    expect(outbox.stats().lastAckAt).toBe(9_000);
    expect(() => outbox.settle(5, 4, 1)).toThrow(RangeError);
  });
});

describe('SqliteOutbox caps', () => {
  it('byte cap evicts the oldest seqs first, counts them and logs one warn line', () => {
    const probe = openOutbox();
    const size = probe.append([sampleEvent(0)])[0]!;
    const rowBytes = probe.readAfter(0, 1, 1e9)[0]!.bytes;
    probe.settle(size.seq, size.seq, 1);
    probe.close();
    // sampleEvent payloads differ in size by a few bytes; cap at about ten rows.
    const outbox = openOutbox({ maxBytes: rowBytes * 10 });
    outbox.append(sampleEvents(8, 1));
    expect(outbox.stats().evictedTotal).toBe(0);
    logs.length = 0;

    outbox.append(sampleEvents(8, 9));
    const stats = outbox.stats();
    expect(stats.bytes).toBeLessThanOrEqual(rowBytes * 10);
    const seqs = outbox.readAfter(0, 100, 1e9).map((r) => r.seq);
    expect(stats.evictedTotal).toBe(16 - seqs.length);
    expect(stats.evictedTotal).toBeGreaterThanOrEqual(6);
    // What is left is the newest run of seqs, without gaps.
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => 18 - seqs.length + i));
    const warns = logs.filter((l) => l.level === 40);
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({ reason: 'bytes', evicted: stats.evictedTotal, module: 'outbox' });
  });

  it('age cap evicts rows past maxAge, oldest seq first, from append and from enforceCaps', () => {
    let now = 100 * HOUR;
    const outbox = openOutbox({ clock: () => now, maxAgeMs: 10 * HOUR });
    outbox.append(sampleEvents(3));
    now += 5 * HOUR;
    outbox.append(sampleEvents(2));
    expect(outbox.enforceCaps(now)).toEqual({ evicted: 0, reason: null });

    now += 6 * HOUR; // the first three are 11 h old
    expect(outbox.enforceCaps(now)).toEqual({ evicted: 3, reason: 'age' });
    expect(outbox.readAfter(0, 100, 1e9).map((r) => r.seq)).toEqual([4, 5]);
    expect(outbox.stats().evictedTotal).toBe(3);

    now += 5 * HOUR; // the next append finds seq 4 and 5 expired
    outbox.append(sampleEvents(1));
    expect(outbox.readAfter(0, 100, 1e9).map((r) => r.seq)).toEqual([6]);
    expect(outbox.stats()).toMatchObject({ depth: 1, evictedTotal: 5 });
    expect(logs.filter((l) => l.level === 40).map((l) => l.evicted)).toEqual([3, 2]);
  });

  it('age cap never skips a seq: an old stamp behind a younger row stays until that row goes', () => {
    let now = 50 * HOUR;
    const outbox = openOutbox({ clock: () => now, maxAgeMs: 10 * HOUR });
    outbox.append(sampleEvents(1)); // seq 1 stamped 50 h
    now = 30 * HOUR; // the system clock stepped back
    outbox.append(sampleEvents(1)); // seq 2 stamped 30 h
    expect(outbox.enforceCaps(55 * HOUR)).toEqual({ evicted: 0, reason: null });
    expect(outbox.enforceCaps(61 * HOUR)).toEqual({ evicted: 2, reason: 'age' });
  });
});

describe('SqliteOutbox file and schema', () => {
  it('migrates an empty file, uses WAL, and refuses a file from a newer version', () => {
    openOutbox().close();
    const raw = new Database(file);
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();

    const error = (() => {
      try {
        openOutbox();
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(UserError);
    expect(error!.message).toContain(`schema version ${SCHEMA_VERSION + 1}`);
    expect(error!.message).toMatch(/newer roadwatch.*move the file away/);
  });

  it('opens a zero-byte file as a new outbox', () => {
    openOutbox().close();
    rmSync(file);
    writeFileSync(file, '');
    expect(openOutbox().append(sampleEvents(1))[0]!.seq).toBe(1);
  });

  it('names the fix when the file is not a database', () => {
    openOutbox().close();
    rmSync(file);
    rmSync(`${file}-wal`, { force: true });
    rmSync(`${file}-shm`, { force: true });
    writeFileSync(file, 'this is not sqlite'.repeat(100));
    expect(() => openOutbox()).toThrow(/not a roadwatch outbox or is damaged/);
  });

  it('lets a second connection append while the first is open; both see one seq line and one total', () => {
    const service = openOutbox();
    const replay = openOutbox();
    expect(service.append(sampleEvents(2)).map((e) => e.seq)).toEqual([1, 2]);
    expect(replay.append(sampleEvents(3)).map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(service.append(sampleEvents(1)).map((e) => e.seq)).toEqual([6]);
    expect(service.readAfter(0, 100, 1e9).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    const bytes = service.readAfter(0, 100, 1e9).reduce((sum, r) => sum + r.bytes, 0);
    expect(service.stats()).toMatchObject({ depth: 6, bytes });
    expect(replay.stats()).toEqual(service.stats());
    replay.settle(1, 6, 1);
    expect(service.stats()).toMatchObject({ depth: 0, bytes: 0 });
  });

  it('a reopen without settle keeps every row', () => {
    let outbox = openOutbox();
    const events = outbox.append(sampleEvents(50));
    outbox.readAfter(0, 50, 1e9); // "sent", never acked
    outbox.close();
    outbox = openOutbox();
    expect(outbox.readAfter(0, 100, 1e9).map((r) => r.eventId)).toEqual(events.map((e) => e.eventId));
  });

  it('kill -9 of a process appending keeps every event whose append returned', async () => {
    const script = fileURLToPath(new URL('./testing/appender.ts', import.meta.url));
    const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, file], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`appender printed too little: ${err}`)), 20_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.split('\n').length > 200) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGKILL');
    await exited;

    const printed = out.split('\n').filter((l) => /^\d+ \S+$/.test(l)).map((l) => l.split(' ') as [string, string]);
    const outbox = openOutbox();
    const rows = outbox.readAfter(0, 1e9, Number.MAX_SAFE_INTEGER);
    expect(rows.length).toBeGreaterThanOrEqual(printed.length);
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
    const stored = new Map(rows.map((r) => [r.seq, r.eventId]));
    for (const [seq, eventId] of printed) expect(stored.get(Number(seq))).toBe(eventId);
    expect(outbox.stats().depth).toBe(rows.length);
  });
});
