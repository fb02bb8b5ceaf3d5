import type { EventBodyInput, RoadEvent } from '@roadwatch/shared';
import pino from 'pino';
import { SqliteOutbox } from '../../agent/src/outbox/sqlite-outbox.js';
import { outboxPath } from '../../agent/src/outbox/paths.js';
import { sleep } from './processes.js';
import { mulberry32 } from '../../models/scene/random.js';

const CLASSES = ['D00', 'D10', 'D20', 'D40'];
const MiB = 1024 * 1024;

/** Deterministic pseudo-random numbers (mulberry32), so a failing run can be repeated with its seed. */
export const seededRandom = mulberry32;

/**
 * Event bodies as the agent's pipeline writes them, in a small area (about 1 × 1 km, so vehicles
 * share H3 cells and the hotspot rule fires) over the last days (several hours and days of
 * rollups). Confidences have two decimals, so "confidence ≥ 0.6" means the same in JS and in a
 * Postgres `real`. `ts` comes from `now()` when given (a vehicle stamping with its own clock).
 */
export function eventBodies(count: number, rand: () => number, now?: () => number): EventBodyInput[] {
  const bodies: EventBodyInput[] = [];
  const base = Date.now();
  for (let i = 0; i < count; i++) {
    const ts = now ? now() : base - Math.floor(rand() * 3 * 86_400_000);
    bodies.push({
      ts: new Date(ts).toISOString(),
      clock: now ? 'system' : 'gps',
      lat: 52.37 + Math.round(rand() * 9000) / 1_000_000,
      lon: 4.89 + Math.round(rand() * 14000) / 1_000_000,
      accuracyM: 3,
      speedKmh: Math.round(20 + rand() * 50),
      headingDeg: Math.floor(rand() * 359),
      class: CLASSES[Math.floor(rand() * CLASSES.length)]!,
      confidence: Math.round((0.3 + rand() * 0.7) * 100) / 100,
      hits: 1 + Math.floor(rand() * 6),
      bbox: [400, 380, 520, 450],
      frame: { w: 1280, h: 720 },
      model: 'road-damage-tiny@1',
    });
  }
  return bodies;
}

export interface FeederOptions {
  /** The agent's data dir: events are appended to `<dataDir>/outbox.sqlite`, as `roadwatch replay` does beside the running service. */
  dataDir: string;
  seed: number;
  /** The outbox caps the writer applies (the agent's config: outbox.maxBytes, outbox.maxAgeHours). */
  maxBytes?: number;
  maxAgeHours?: number;
  /** Wall clock of the writer (created_at, and the events' ts when `stampWithClock`). */
  clock?: () => number;
  stampWithClock?: boolean;
}

/**
 * Writes events into an agent's outbox from the test process — a second writer beside the running
 * agent, exactly like `roadwatch replay` (docs/OUTBOX.md: BEGIN IMMEDIATE, seq from sqlite_sequence)
 * — and remembers every event it stored (eventId and seq), so the test knows exactly what the
 * vehicle produced.
 */
export class OutboxFeeder {
  readonly produced: RoadEvent[] = [];
  private readonly outbox: SqliteOutbox;
  private readonly rand: () => number;
  private loop: Promise<void> | null = null;
  private running = false;

  constructor(private readonly options: FeederOptions) {
    this.rand = seededRandom(options.seed);
    this.outbox = new SqliteOutbox({
      path: outboxPath(options.dataDir),
      logger: pino({ level: 'silent' }),
      maxBytes: options.maxBytes ?? 2048 * MiB,
      maxAgeMs: (options.maxAgeHours ?? 24 * 30) * 3_600_000,
      clock: options.clock,
    });
  }

  /** Appends `count` events in one transaction; returns them with their eventId and seq. */
  append(count: number): RoadEvent[] {
    const stamp = this.options.stampWithClock ? (this.options.clock ?? Date.now) : undefined;
    const stored = this.outbox.append(eventBodies(count, this.rand, stamp));
    this.produced.push(...stored);
    return stored;
  }

  /** Appends `perTick` events every `everyMs` until stop(): steady load while a fault is injected. */
  start(perTick: number, everyMs: number): void {
    if (this.loop) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        this.append(perTick);
        await sleep(everyMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.loop = null;
  }

  stats() {
    return this.outbox.stats();
  }

  /** Seqs still in the outbox file. */
  remainingSeqs(): number[] {
    const rows: number[] = [];
    let after = 0;
    for (;;) {
      const page = this.outbox.readAfter(after, 10_000, Number.MAX_SAFE_INTEGER);
      if (page.length === 0) return rows;
      for (const row of page) rows.push(row.seq);
      after = page.at(-1)!.seq;
    }
  }

  async close(): Promise<void> {
    await this.stop();
    this.outbox.close();
  }
}
