import { PROTOCOL_VERSION, type Ack, type RejectedEvent } from '@roadwatch/shared';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Db } from '../db/client.js';
import { execPrepared, execRows, isRetryableTxError } from '../db/rows.js';
import { aggregatesChanged } from './aggregates-sql.js';
import type { IngestRules } from './alarm-rules.js';
import { DEFAULT_H3_RESOLUTION, ingestGroupStatement, quarantinePayloadStatement, toDetectionRow, type DetectionRow, type QuarantineRow, type StatementBatch } from './ingest-sql.js';
import { checkEnvelope, checkEvent, toPgText } from './ingest-validate.js';
import { ingestMetrics, type IngestMetrics } from './metrics.js';
import type { BatchIngest, IngestChannel, IngestOutcome } from './ports.js';

export interface IngestServiceDeps {
  db: Db;
  logger: Logger;
  clock?: () => Date;
  registry?: Registry;
  /** aggregates.h3Resolution: the H3 cell stored with each event and rolled up (default 9). */
  h3Resolution?: number;
  /** Alarm rules: severe damage inside the ingest statement, hotspot checks after commit. */
  rules?: IngestRules;
  /** Maintain the hourly rollups in the ingest statement (default true; false only for bench:api's reference). */
  aggregates?: boolean;
  /** Group commit (config `ingest.*`): how batches that arrive together share statements. */
  groupCommit?: Partial<GroupCommitOptions>;
  /** Run the ingest statement as a named prepared statement (default true; false only for a bench's reference). */
  prepared?: boolean;
}

/**
 * Group commit. A batch that finds a statement slot free runs at once, alone (no timer, no added
 * latency when idle). Batches that arrive while every slot is busy queue, and the next free slot
 * takes all of them (up to the caps) as ONE statement — one transaction, one WAL flush.
 */
export interface GroupCommitOptions {
  /** Ingest statements (transactions) in flight at once (ingest.statements). */
  statements: number;
  /** At most this many batches in one statement (ingest.maxBatchesPerStatement). */
  maxBatches: number;
  /** At most this many events in one statement, unless a single batch is larger (ingest.maxEventsPerStatement). */
  maxEvents: number;
}

export const DEFAULT_GROUP_COMMIT: GroupCommitOptions = { statements: 4, maxBatches: 64, maxEvents: 5000 };

/** A valid batch waiting for, or in, a statement. */
interface Pending {
  deviceId: string;
  batchId: string;
  /** The valid events, in payload order (repeats included). */
  events: DetectionRow[];
  quarantine: QuarantineRow[];
  rejected: RejectedEvent[];
  resolve: (stored: string[]) => void;
  reject: (err: unknown) => void;
}

interface GroupMetrics {
  statements: Counter<'kind'>;
  batchesPerStatement: Histogram;
}

function groupMetrics(registry: Registry | undefined): GroupMetrics {
  const r = registry;
  const registers = r ? [r] : [];
  const statements =
    (r?.getSingleMetric('roadwatch_hub_ingest_statements_total') as Counter<'kind'> | undefined) ??
    new Counter({
      name: 'roadwatch_hub_ingest_statements_total',
      help: 'Ingest statements (transactions) run: kind=group (one or more batches), isolate (a batch or event re-run alone after a data error)',
      labelNames: ['kind'] as const,
      registers,
    });
  const batchesPerStatement =
    (r?.getSingleMetric('roadwatch_hub_ingest_statement_batches') as Histogram | undefined) ??
    new Histogram({
      name: 'roadwatch_hub_ingest_statement_batches',
      help: 'Batches coalesced into one ingest statement (group commit)',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers,
    });
  return { statements, batchesPerStatement };
}

const MAX_ATTEMPTS = 3;
const decoder = new TextDecoder('utf-8');

export class IngestService implements BatchIngest {
  private readonly db: Db;
  private readonly logger: Logger;
  private readonly clock: () => Date;
  private readonly metrics: IngestMetrics;
  private readonly h3Resolution: number;
  private readonly rules: IngestRules | undefined;
  private readonly aggregates: boolean;
  private readonly prepared: boolean;
  private readonly group: GroupCommitOptions;
  private readonly groupMetrics: GroupMetrics;
  private readonly queue: Pending[] = [];
  private running = 0;
  /** The agg_changes bump running now, and the one queued behind it (see aggregatesChanged). */
  private bumping: Promise<void> | null = null;
  private bumpQueued: Promise<void> | null = null;

  constructor(deps: IngestServiceDeps) {
    this.db = deps.db;
    this.h3Resolution = deps.h3Resolution ?? DEFAULT_H3_RESOLUTION;
    this.rules = deps.rules;
    this.aggregates = deps.aggregates ?? true;
    this.prepared = deps.prepared ?? true;
    this.logger = deps.logger.child({ svc: 'ingest' });
    this.clock = deps.clock ?? (() => new Date());
    this.metrics = ingestMetrics(deps.registry);
    this.group = { ...DEFAULT_GROUP_COMMIT, ...stripUndefined(deps.groupCommit ?? {}) };
    for (const [key, value] of Object.entries(this.group)) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`groupCommit.${key} must be a positive integer, got ${value}`);
    }
    this.groupMetrics = groupMetrics(deps.registry);
  }

  /** Statements running now and batches queued for the next one (tests, diagnostics). */
  get pending(): { statements: number; queued: number } {
    return { statements: this.running, queued: this.queue.length };
  }

  async ingest(topicDeviceId: string, payload: Uint8Array | string, channel: IngestChannel): Promise<IngestOutcome> {
    const endTimer = this.metrics.duration.startTimer({ channel });
    this.metrics.batches.inc({ channel });
    try {
      return await this.ingestText(topicDeviceId, typeof payload === 'string' ? payload : decoder.decode(payload));
    } finally {
      endTimer();
    }
  }

  private async ingestText(deviceId: string, text: string): Promise<IngestOutcome> {
    const checked = checkEnvelope(deviceId, text);
    if (!checked.ok) {
      await this.db.execute(
        quarantinePayloadStatement({
          deviceId: toPgText(deviceId),
          batchId: checked.batchId,
          reason: toPgText(checked.reason),
          payload: toPgText(text),
        }),
      );
      this.metrics.rejected.inc({ reason: checked.kind });
      this.logger.warn({ deviceId, batchId: checked.batchId, kind: checked.kind, reason: checked.reason }, 'batch quarantined');
      const ack: Ack | null = checked.batchId
        ? { v: PROTOCOL_VERSION, batchId: checked.batchId, stored: [], duplicates: 0, rejected: [], error: checked.reason }
        : null;
      return { ack, stored: 0, duplicates: 0, rejected: 1, invalid: { kind: checked.kind, reason: checked.reason } };
    }

    const { batchId, events: rawEvents } = checked.envelope;
    const events: DetectionRow[] = [];
    const quarantine: QuarantineRow[] = [];
    const rejected: RejectedEvent[] = [];
    for (const raw of rawEvents) {
      const result = checkEvent(raw);
      if (result.ok) {
        events.push(toDetectionRow(result.event, { deviceId, batchId, h3Resolution: this.h3Resolution }));
      } else {
        rejected.push({ seq: result.seq, eventId: result.eventId, reason: result.reason });
        quarantine.push({
          seq: result.seq,
          event_id: result.eventId === null ? null : toPgText(result.eventId),
          reason: toPgText(result.reason),
          payload: toPgText(JSON.stringify(raw) ?? 'null'),
        });
      }
    }
    const stored = await this.commit(deviceId, batchId, events, quarantine, rejected);
    if (this.rules && stored.length) {
      const inserted = new Set(stored);
      const seen = new Set<string>();
      this.rules.afterIngest(deviceId, events.filter((e) => inserted.has(e.event_id) && !seen.has(e.event_id) && seen.add(e.event_id)));
    }

    const duplicates = events.length - stored.length;
    this.metrics.stored.inc(stored.length);
    if (duplicates) this.metrics.duplicates.inc(duplicates);
    if (rejected.length) {
      this.metrics.rejected.inc({ reason: 'event' }, rejected.length);
      this.logger.warn({ deviceId, batchId, rejected: rejected.slice(0, 5), count: rejected.length }, 'events quarantined');
    }
    this.logger.debug({ deviceId, batchId, stored: stored.length, duplicates, rejected: rejected.length }, 'batch ingested');
    return {
      ack: { v: PROTOCOL_VERSION, batchId, stored, duplicates, rejected },
      stored: stored.length,
      duplicates,
      rejected: rejected.length,
    };
  }

  /** Queues the batch for the next statement; resolves with its event ids really inserted, after the commit. */
  private commit(deviceId: string, batchId: string, events: DetectionRow[], quarantine: QuarantineRow[], rejected: RejectedEvent[]): Promise<string[]> {
    return new Promise<string[]>((resolve, reject) => {
      this.queue.push({ deviceId, batchId, events, quarantine, rejected, resolve, reject });
      this.pump();
    });
  }

  /** Starts statements while slots are free: each takes what is queued now (FIFO, up to the caps). */
  private pump(): void {
    while (this.running < this.group.statements && this.queue.length) {
      const group: Pending[] = [this.queue.shift()!];
      let events = group[0]!.events.length;
      while (group.length < this.group.maxBatches && this.queue.length && events + this.queue[0]!.events.length <= this.group.maxEvents) {
        const next = this.queue.shift()!;
        events += next.events.length;
        group.push(next);
      }
      this.running++;
      void this.runGroup(group).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  /** One statement for the group; on a data error every batch again on its own, so one bad batch never affects another. */
  private async runGroup(group: Pending[]): Promise<void> {
    this.groupMetrics.batchesPerStatement.observe(group.length);
    let results: string[][];
    try {
      try {
        this.groupMetrics.statements.inc({ kind: 'group' });
        results = await this.runBatches(group);
      } catch (err) {
        if (!isDataError(err)) throw err;
        if (group.length === 1) {
          this.logger.warn({ err, batchId: group[0]!.batchId }, 'batch refused by the database; isolating the bad events');
        } else {
          this.logger.warn({ err, batches: group.length }, 'coalesced batches refused by the database; ingesting each batch on its own');
        }
        results = [];
        for (const p of group) {
          try {
            results.push(group.length === 1 ? await this.isolate(p) : await this.storeAlone(p));
          } catch (e) {
            results.push([]);
            p.reject(e);
          }
        }
      }
    } catch (err) {
      for (const p of group) p.reject(err);
      return;
    }
    if (this.aggregates && results.some((r) => r.length)) await this.aggregatesChanged();
    group.forEach((p, i) => p.resolve(results[i]!));
  }

  /** One batch in its own statement; a data error isolates its bad events. */
  private async storeAlone(p: Pending): Promise<string[]> {
    try {
      this.groupMetrics.statements.inc({ kind: 'isolate' });
      return (await this.runBatches([p]))[0]!;
    } catch (err) {
      if (!isDataError(err)) throw err;
      this.logger.warn({ err, batchId: p.batchId }, 'batch refused by the database; isolating the bad events');
    }
    return this.isolate(p);
  }

  /** Each event of the batch on its own; a row Postgres refuses is quarantined instead of blocking the batch forever. */
  private async isolate(p: Pending): Promise<string[]> {
    const stored: string[] = [];
    const quarantine = [...p.quarantine];
    const seen = new Set<string>();
    for (const event of p.events) {
      if (seen.has(event.event_id)) continue;
      seen.add(event.event_id);
      try {
        this.groupMetrics.statements.inc({ kind: 'isolate' });
        stored.push(...(await this.runBatches([{ ...p, events: [event], quarantine: [] }]))[0]!);
      } catch (err) {
        if (!isDataError(err)) throw err;
        const reason = toPgText(`refused by the database: ${(err as Error).message}`);
        p.rejected.push({ seq: event.seq, eventId: event.event_id, reason });
        quarantine.push({ seq: event.seq, event_id: event.event_id, reason, payload: JSON.stringify(event) });
      }
    }
    this.groupMetrics.statements.inc({ kind: 'isolate' });
    await this.runBatches([{ ...p, events: [], quarantine }]);
    return stored;
  }

  /**
   * One statement for these batches, retried on deadlock or serialization failure. Each event id goes
   * to its first occurrence in batch order (a repeat, inside a batch or in a later batch of the same
   * statement, is that batch's duplicate), so the ids returned split exactly by batch.
   */
  private async runBatches(batches: Array<Pick<Pending, 'deviceId' | 'batchId' | 'events' | 'quarantine'>>): Promise<string[][]> {
    const owner = new Map<string, number>();
    const statement: StatementBatch[] = batches.map((b, i) => {
      const own = b.events.filter((e) => !owner.has(e.event_id) && owner.set(e.event_id, i));
      const severe = own.length ? (this.rules?.severeFor(b.deviceId, own) ?? []) : [];
      return { deviceId: b.deviceId, batchId: b.batchId, events: own, quarantine: b.quarantine, severe };
    });
    const query = ingestGroupStatement({ now: this.clock().toISOString(), batches: statement, h3Resolution: this.h3Resolution, aggregates: this.aggregates });
    for (let attempt = 1; ; attempt++) {
      try {
        const rows = this.prepared ? await execPrepared<{ event_id: string }>(this.db, 'rw_ingest', query) : await execRows<{ event_id: string }>(this.db, query);
        const out = batches.map((): string[] => []);
        for (const r of rows) out[owner.get(r.event_id)!]!.push(r.event_id);
        return out;
      } catch (err) {
        if (attempt >= MAX_ATTEMPTS || !isRetryableTxError(err)) throw err;
      }
    }
  }

  /**
   * Tells cached cell answers (AggregatesService.cells) that the rollups moved. After the commit, never
   * inside the statement: a reader must not see the new position before it can see the rows. Groups
   * that commit while a bump runs share the one queued behind it (it starts after their commits), so
   * under load there is about one bump per round trip, not one per statement. Failing here loses
   * nothing stored (the answers then age out within a minute), so it is logged, never thrown.
   */
  private aggregatesChanged(): Promise<void> {
    if (this.bumpQueued) return this.bumpQueued;
    if (!this.bumping) return this.startBump();
    this.bumpQueued = this.bumping.then(() => {
      this.bumpQueued = null;
      return this.startBump();
    });
    return this.bumpQueued;
  }

  private startBump(): Promise<void> {
    const run = this.db
      .execute(aggregatesChanged)
      .then(
        () => undefined,
        (err: unknown) => this.logger.warn({ err }, 'could not mark the rollups changed; cached cell answers may lag for up to a minute'),
      )
      .finally(() => {
        if (this.bumping === run) this.bumping = null;
      });
    this.bumping = run;
    return run;
  }
}

/** SQLSTATE class 22 (data exception) or 23 (integrity): the data, not the server, is at fault. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code ?? (err as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
