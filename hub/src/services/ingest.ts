import { PROTOCOL_VERSION, type Ack, type RejectedEvent } from '@roadwatch/shared';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Db } from '../db/client.js';
import { execRows, isRetryableTxError } from '../db/rows.js';
import { aggregatesChanged } from './aggregates-sql.js';
import type { IngestRules } from './alarm-rules.js';
import type { SevereAlarmRow } from './alarms-sql.js';
import { DEFAULT_H3_RESOLUTION, ingestStatement, quarantinePayloadStatement, toDetectionRow, type DetectionRow, type QuarantineRow } from './ingest-sql.js';
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

  constructor(deps: IngestServiceDeps) {
    this.db = deps.db;
    this.h3Resolution = deps.h3Resolution ?? DEFAULT_H3_RESOLUTION;
    this.rules = deps.rules;
    this.aggregates = deps.aggregates ?? true;
    this.logger = deps.logger.child({ svc: 'ingest' });
    this.clock = deps.clock ?? (() => new Date());
    this.metrics = ingestMetrics(deps.registry);
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
        events.push(toDetectionRow(result.event, this.h3Resolution));
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
    const base = { deviceId, batchId, now: this.clock().toISOString(), h3Resolution: this.h3Resolution, aggregates: this.aggregates };
    const severe = this.rules?.severeFor(deviceId, events) ?? [];
    const stored = await this.store(base, events, severe, quarantine, rejected);
    if (this.aggregates && stored.length) await this.aggregatesChanged(deviceId, batchId);
    if (this.rules && stored.length) {
      const inserted = new Set(stored);
      this.rules.afterIngest(deviceId, events.filter((e) => inserted.has(e.event_id)));
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

  /** One statement for the batch; retried on deadlock; a row Postgres refuses is isolated instead of blocking the batch forever. */
  private async store(
    base: { deviceId: string; batchId: string; now: string; h3Resolution: number; aggregates: boolean },
    events: DetectionRow[],
    severe: SevereAlarmRow[],
    quarantine: QuarantineRow[],
    rejected: RejectedEvent[],
  ): Promise<string[]> {
    try {
      return await this.run({ ...base, events, severe, quarantine });
    } catch (err) {
      if (!isDataError(err)) throw err;
      this.logger.warn({ err, batchId: base.batchId }, 'batch refused by the database; isolating the bad events');
    }
    const stored: string[] = [];
    for (const event of events) {
      try {
        const mine = severe.filter((r) => r.event_ids.includes(event.event_id)).map((r) => ({ ...r, event_ids: [event.event_id] }));
        stored.push(...(await this.run({ ...base, events: [event], severe: mine, quarantine: [] })));
      } catch (err) {
        if (!isDataError(err)) throw err;
        const reason = toPgText(`refused by the database: ${(err as Error).message}`);
        rejected.push({ seq: event.seq, eventId: event.event_id, reason });
        quarantine.push({ seq: event.seq, event_id: event.event_id, reason, payload: JSON.stringify(event) });
      }
    }
    await this.run({ ...base, events: [], quarantine });
    return stored;
  }

  /**
   * Tells cached cell answers (AggregatesService.cells) that the rollups moved. After the commit, never
   * inside the statement: a reader must not see the new position before it can see the rows. Failing
   * here loses nothing stored (the answers then age out within a minute), so it is logged, not thrown.
   */
  private async aggregatesChanged(deviceId: string, batchId: string): Promise<void> {
    try {
      await this.db.execute(aggregatesChanged);
    } catch (err) {
      this.logger.warn({ err, deviceId, batchId }, 'could not mark the rollups changed; cached cell answers may lag for up to a minute');
    }
  }

  private async run(p: Parameters<typeof ingestStatement>[0]): Promise<string[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        const rows = await execRows<{ event_id: string }>(this.db, ingestStatement(p));
        return rows.map((r) => r.event_id);
      } catch (err) {
        if (attempt >= MAX_ATTEMPTS || !isRetryableTxError(err)) throw err;
      }
    }
  }
}

/** SQLSTATE class 22 (data exception) or 23 (integrity): the data, not the server, is at fault. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code ?? (err as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
