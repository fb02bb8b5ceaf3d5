import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { EventBodySchema, UserError, formatZodIssues, newEventId, type EventBody, type EventBodyInput, type RoadEvent } from '@roadwatch/shared';
import { isValidBody, withDefaults } from './body-guard.js';
import { eventJson } from './event-json.js';
import { migrate } from './migrations.js';
import type { EvictionResult, Outbox, OutboxRow, OutboxStats } from './outbox.js';
import { outboxPath } from './paths.js';

export interface SqliteOutboxOptions {
  path: string;
  logger: Logger;
  /** Payload bytes kept before the oldest rows are evicted. */
  maxBytes: number;
  /** Rows older than this (by their created_at) are evicted. */
  maxAgeMs: number;
  /** Wall clock in ms; Date.now by default. */
  clock?: () => number;
  /** How long a write waits for another process's write transaction before failing (ms). */
  busyTimeoutMs?: number;
}

/** The part of the agent config the outbox needs (`replay` and `queue` have no credentials). */
export interface OutboxConfig {
  dataDir: string;
  outbox: { maxBytes: number; maxAgeHours: number };
}

/**
 * When a cap is exceeded, rows are evicted down to this fraction of it, so a full outbox evicts in
 * rounds (one warn line each) instead of one row on every append.
 */
const LOW_WATER = 0.99;

/**
 * Rows per INSERT statement. With AUTOINCREMENT, SQLite writes sqlite_sequence once per statement,
 * so one statement per row costs about twice as much as one per 100 rows.
 */
const INSERT_CHUNK = 100;

interface Totals {
  depth: number;
  totalBytes: number;
}

/**
 * The agent's durable outbox on SQLite (better-sqlite3). See docs/OUTBOX.md.
 *
 * Eviction order: **oldest seq first**, for both caps. The age cap walks from the lowest seq and
 * stops at the first row young enough to keep, so a row is never evicted while an older seq stays;
 * the byte cap removes the lowest seqs until the total is back under the cap.
 *
 * Durability: WAL with synchronous=FULL. Each append commits with an fsync of the WAL, so an event
 * whose append() returned survives a power cut (vehicles lose power without warning). NORMAL would
 * keep the file uncorrupted but could lose the last appends; the batched append rate with FULL
 * meets the benchmark target, so there is no reason to accept that loss.
 *
 * Several processes may use one file: every write is a BEGIN IMMEDIATE transaction that waits
 * (busy_timeout) for the other writer, seq comes from sqlite_sequence inside that transaction, and
 * the running totals live in the `meta` row updated by the same transaction, never only in memory.
 */
export class SqliteOutbox implements Outbox {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly maxBytes: number;
  private readonly maxAgeMs: number;
  private readonly stmts: ReturnType<typeof prepare>;
  private readonly appendTx: Database.Transaction<(bodies: EventBody[], now: number) => RoadEvent[]>;
  private readonly capsTx: Database.Transaction<(now: number) => EvictionResult>;
  private readonly settleTx: Database.Transaction<(fromSeq: number, toSeq: number, ackedAt: number) => number>;
  private readonly statsTx: Database.Transaction<() => OutboxStats>;
  private closed = false;

  static open(options: SqliteOutboxOptions): SqliteOutbox {
    return new SqliteOutbox(options);
  }

  /** Opens `<dataDir>/outbox.sqlite` with the caps from the agent config. */
  static forConfig(config: OutboxConfig, deps: { logger: Logger; clock?: () => number }): SqliteOutbox {
    return new SqliteOutbox({
      path: outboxPath(config.dataDir),
      logger: deps.logger,
      clock: deps.clock,
      maxBytes: config.outbox.maxBytes,
      maxAgeMs: config.outbox.maxAgeHours * 3_600_000,
    });
  }

  constructor(options: SqliteOutboxOptions) {
    this.path = options.path;
    this.logger = options.logger.child({ module: 'outbox' });
    this.clock = options.clock ?? Date.now;
    this.maxBytes = options.maxBytes;
    this.maxAgeMs = options.maxAgeMs;
    this.db = openDatabase(options.path, options.busyTimeoutMs ?? 5_000);
    try {
      const { from, to } = migrate(this.db, options.path);
      if (from !== to) this.logger.info({ path: options.path, from, to }, 'outbox schema migrated');
      this.stmts = prepare(this.db);
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.appendTx = this.db.transaction((bodies: EventBody[], now: number) => this.insertAll(bodies, now));
    this.capsTx = this.db.transaction((now: number) => this.applyCaps(now));
    this.settleTx = this.db.transaction((fromSeq: number, toSeq: number, ackedAt: number) => this.deleteRange(fromSeq, toSeq, ackedAt));
    this.statsTx = this.db.transaction(() => this.readStats());
  }

  append(events: readonly EventBodyInput[]): RoadEvent[] {
    if (events.length === 0) return [];
    // Validated before the write lock is taken, so a bad event costs another process nothing.
    const bodies = new Array<EventBody>(events.length);
    for (let i = 0; i < events.length; i++) bodies[i] = validateBody(events[i], i, events.length);
    return this.appendTx.immediate(bodies, this.clock());
  }

  readAfter(afterSeq: number, maxEvents: number, maxBytes: number): OutboxRow[] {
    if (maxEvents < 1) return [];
    const rows = this.stmts.readAfter.all(afterSeq, maxEvents) as OutboxRow[];
    let bytes = 0;
    for (let i = 0; i < rows.length; i++) {
      bytes += rows[i]!.bytes;
      if (bytes > maxBytes && i > 0) return rows.slice(0, i);
    }
    return rows;
  }

  waitingAfter(afterSeq: number, maxEvents: number, maxBytes: number): { events: number; full: boolean } {
    if (maxEvents < 1) return { events: 0, full: false };
    const { n, bytes } = this.stmts.waitingAfter.get(afterSeq, maxEvents) as { n: number; bytes: number };
    return { events: n, full: n >= maxEvents || bytes > maxBytes };
  }

  settle(fromSeq: number, toSeq: number, ackedAt: number): number {
    if (fromSeq > toSeq) throw new RangeError(`settle: fromSeq ${fromSeq} is after toSeq ${toSeq}`);
    return this.settleTx.immediate(fromSeq, toSeq, ackedAt);
  }

  enforceCaps(now: number): EvictionResult {
    // Checked outside a write transaction first: the service calls this periodically and must not
    // take the write lock from `replay` when there is nothing to evict.
    if (!this.overCap(this.readTotals(), now)) return { evicted: 0, reason: null };
    return this.capsTx.immediate(now);
  }

  stats(): OutboxStats {
    return this.statsTx.deferred();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private insertAll(bodies: EventBody[], now: number): RoadEvent[] {
    const base = (this.stmts.lastSeq.get() as number | undefined) ?? 0;
    const out = new Array<RoadEvent>(bodies.length);
    const args: unknown[] = [];
    let bytes = 0;
    for (let i = 0; i < bodies.length; i++) {
      const seq = base + i + 1;
      const event = toEvent(newEventId(), seq, bodies[i]!);
      const payload = eventJson(event);
      const size = Buffer.byteLength(payload);
      args.push(seq, event.eventId, payload, size, now);
      bytes += size;
      out[i] = event;
      if (args.length === INSERT_CHUNK * 5) {
        this.stmts.insertChunk.run(args);
        args.length = 0;
      }
    }
    for (let k = 0; k < args.length; k += 5) this.stmts.insert.run(args.slice(k, k + 5));
    this.stmts.addTotals.run(bodies.length, bytes);
    this.applyCaps(now);
    return out;
  }

  private deleteRange(fromSeq: number, toSeq: number, ackedAt: number): number {
    const { n, bytes } = this.stmts.sumRange.get(fromSeq, toSeq) as { n: number; bytes: number };
    if (n > 0) {
      this.stmts.deleteRange.run(fromSeq, toSeq);
      this.stmts.addTotals.run(-n, -bytes);
    }
    this.stmts.recordAck.run(ackedAt);
    return n;
  }

  /** Runs inside a write transaction. Age first (those rows are expired anyway), then bytes. */
  private applyCaps(now: number): EvictionResult {
    const totals = this.readTotals();
    if (!this.overCap(totals, now)) return { evicted: 0, reason: null };
    let reason: EvictionResult['reason'] = null;
    let evicted = 0;

    const oldest = this.stmts.oldestCreatedAt.get() as number | undefined;
    if (oldest !== undefined && oldest < now - this.maxAgeMs) {
      const keepFrom = this.stmts.firstSeqCreatedSince.get(now - this.maxAgeMs * LOW_WATER) as number | undefined;
      const n = this.evictBelow(keepFrom ?? Number.MAX_SAFE_INTEGER, 'age', totals);
      if (n > 0) [evicted, reason] = [evicted + n, 'age'];
    }

    if (totals.totalBytes > this.maxBytes) {
      const excess = totals.totalBytes - Math.floor(this.maxBytes * LOW_WATER);
      let freed = 0;
      let lastSeq = 0;
      for (const row of this.stmts.sizesInOrder.iterate() as IterableIterator<{ seq: number; bytes: number }>) {
        freed += row.bytes;
        lastSeq = row.seq;
        if (freed >= excess) break;
      }
      const n = this.evictBelow(lastSeq + 1, 'bytes', totals);
      if (n > 0) [evicted, reason] = [evicted + n, 'bytes'];
    }
    return { evicted, reason };
  }

  /** Deletes every row with seq < keepFrom and updates the totals (in place and in meta). */
  private evictBelow(keepFrom: number, reason: 'age' | 'bytes', totals: Totals): number {
    const { n, bytes } = this.stmts.sumBelow.get(keepFrom) as { n: number; bytes: number };
    if (n === 0) return 0;
    this.stmts.deleteBelow.run(keepFrom);
    this.stmts.addTotals.run(-n, -bytes);
    this.stmts.addEvicted.run(n);
    totals.depth -= n;
    totals.totalBytes -= bytes;
    const cap = reason === 'age' ? { maxAgeHours: this.maxAgeMs / 3_600_000 } : { maxBytes: this.maxBytes };
    this.logger.warn(
      { evicted: n, evictedBytes: bytes, reason, ...cap, depth: totals.depth, bytes: totals.totalBytes },
      `outbox ${reason} cap reached: evicted the ${n} oldest unsent events`,
    );
    return n;
  }

  private overCap(totals: Totals, now: number): boolean {
    if (totals.totalBytes > this.maxBytes) return true;
    const oldest = this.stmts.oldestCreatedAt.get() as number | undefined;
    return oldest !== undefined && oldest < now - this.maxAgeMs;
  }

  private readTotals(): Totals {
    return this.stmts.totals.get() as Totals;
  }

  private readStats(): OutboxStats {
    const meta = this.stmts.meta.get() as { depth: number; totalBytes: number; lastAckAt: number | null; evictedTotal: number };
    return {
      depth: meta.depth,
      bytes: meta.totalBytes,
      oldestCreatedAt: (this.stmts.oldestCreatedAt.get() as number | undefined) ?? null,
      newestSeq: (this.stmts.newestSeq.get() as number | undefined) ?? null,
      lastAckAt: meta.lastAckAt,
      evictedTotal: meta.evictedTotal,
    };
  }
}

function openDatabase(path: string, busyTimeoutMs: number): Database.Database {
  let db: Database.Database;
  try {
    mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { timeout: busyTimeoutMs });
  } catch (error) {
    throw new UserError(`cannot open outbox ${path}: ${(error as Error).message}`, 'check that the data dir exists and the service user may write to it (ROADWATCH_DATA)');
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    // A large import grows the WAL; give the space back after each checkpoint.
    db.pragma('journal_size_limit = 67108864');
    return db;
  } catch (error) {
    db.close();
    const message = (error as Error).message;
    const fix = /not a database|malformed/i.test(message)
      ? 'the file is not a roadwatch outbox or is damaged; move it away to start an empty outbox'
      : 'check the file and its permissions';
    throw new UserError(`cannot open outbox ${path}: ${message}`, fix);
  }
}

/** The wire event, eventId and seq first (the order eventJson writes). */
function toEvent(eventId: string, seq: number, b: EventBody): RoadEvent {
  return {
    eventId,
    seq,
    ts: b.ts,
    clock: b.clock,
    lat: b.lat,
    lon: b.lon,
    accuracyM: b.accuracyM,
    speedKmh: b.speedKmh,
    headingDeg: b.headingDeg,
    class: b.class,
    confidence: b.confidence,
    hits: b.hits,
    bbox: b.bbox,
    frame: b.frame,
    model: b.model,
  };
}

function validateBody(input: unknown, index: number, count: number): EventBody {
  if (isValidBody(input)) return withDefaults(input);
  const result = EventBodySchema.safeParse(input);
  if (result.success) return result.data;
  const where = count > 1 ? `event ${index + 1} of ${count}` : 'event';
  throw new UserError(`outbox append: ${where} is invalid: ${formatZodIssues(result.error).join('; ')}`, 'fix the event; the wire protocol v1 event shape is in shared/src/protocol.ts');
}

function prepare(db: Database.Database) {
  return {
    lastSeq: db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'events'`).pluck(),
    insert: db.prepare('INSERT INTO events (seq, event_id, payload, bytes, created_at) VALUES (?, ?, ?, ?, ?)'),
    insertChunk: db.prepare(`INSERT INTO events (seq, event_id, payload, bytes, created_at) VALUES ${Array(INSERT_CHUNK).fill('(?, ?, ?, ?, ?)').join(', ')}`),
    addTotals: db.prepare('UPDATE meta SET depth = depth + ?, total_bytes = total_bytes + ? WHERE id = 1'),
    addEvicted: db.prepare('UPDATE meta SET evicted_total = evicted_total + ? WHERE id = 1'),
    recordAck: db.prepare('UPDATE meta SET last_ack_at = max(coalesce(last_ack_at, 0), ?) WHERE id = 1'),
    totals: db.prepare('SELECT depth, total_bytes AS totalBytes FROM meta WHERE id = 1'),
    meta: db.prepare('SELECT depth, total_bytes AS totalBytes, last_ack_at AS lastAckAt, evicted_total AS evictedTotal FROM meta WHERE id = 1'),
    readAfter: db.prepare('SELECT seq, event_id AS eventId, payload, bytes, created_at AS createdAt FROM events WHERE seq > ? ORDER BY seq LIMIT ?'),
    waitingAfter: db.prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS bytes FROM (SELECT bytes FROM events WHERE seq > ? ORDER BY seq LIMIT ?)'),
    sumRange: db.prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS bytes FROM events WHERE seq BETWEEN ? AND ?'),
    deleteRange: db.prepare('DELETE FROM events WHERE seq BETWEEN ? AND ?'),
    sumBelow: db.prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS bytes FROM events WHERE seq < ?'),
    deleteBelow: db.prepare('DELETE FROM events WHERE seq < ?'),
    oldestCreatedAt: db.prepare('SELECT created_at FROM events ORDER BY seq LIMIT 1').pluck(),
    newestSeq: db.prepare('SELECT seq FROM events ORDER BY seq DESC LIMIT 1').pluck(),
    // Scans from the lowest seq and stops at the first young row: the age cap never skips a seq.
    firstSeqCreatedSince: db.prepare('SELECT seq FROM events WHERE created_at >= ? ORDER BY seq LIMIT 1').pluck(),
    sizesInOrder: db.prepare('SELECT seq, bytes FROM events ORDER BY seq'),
  };
}
