import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { Listeners } from '../util/listeners.js';
import type { Fix } from './fix.js';
import { GpsHealth, type GpsHealthOptions, type StreamCounts } from './gps-health.js';
import type { GpsStatus } from './gps-source.js';

export interface SourceTiming {
  /** Monotonic clock in ms; performance.now by default. */
  now?: () => number;
  /** Silence after which the state becomes no-data (default 5 s). */
  noDataAfterMs?: number;
  /** Time without a position after which the no-fix message says so plainly (default 60 s). */
  noFixAfterMs?: number;
  /** How often the state is re-evaluated while nothing happens (default 1 s). */
  tickMs?: number;
}

/**
 * What the three adapters share: listeners, the health state machine, a ticker that re-evaluates
 * the state while the line is silent, and one log line per state change (not per retry).
 */
export abstract class SourceBase {
  protected readonly health: GpsHealth;
  protected readonly now: () => number;
  private readonly fixListeners = new Listeners<Fix>();
  private readonly statusListeners = new Listeners<GpsStatus>();
  private readonly sentenceListeners = new Listeners<string>();
  private readonly tickMs: number;
  private ticker: NodeJS.Timeout | null = null;
  private lastReported = '';

  protected constructor(
    readonly name: string,
    protected readonly logger: Logger,
    health: Omit<GpsHealthOptions, 'now' | 'noDataAfterMs' | 'noFixAfterMs'>,
    timing: SourceTiming,
  ) {
    this.now = timing.now ?? (() => performance.now());
    this.health = new GpsHealth({ ...health, now: this.now, noDataAfterMs: timing.noDataAfterMs ?? 5000, noFixAfterMs: timing.noFixAfterMs ?? 60_000 });
    this.tickMs = timing.tickMs ?? 1000;
  }

  protected abstract counts(): StreamCounts;

  status(): GpsStatus {
    return this.health.status(this.counts());
  }

  onFix(listener: (fix: Fix) => void): () => void {
    return this.fixListeners.add(listener);
  }

  onStatus(listener: (status: GpsStatus) => void): () => void {
    return this.statusListeners.add(listener);
  }

  onSentence(listener: (line: string) => void): () => void {
    return this.sentenceListeners.add(listener);
  }

  /** Passes one raw line to `onSentence` listeners (cheap when there are none). */
  protected emitSentence(line: string): void {
    if (this.sentenceListeners.size === 0) return;
    this.sentenceListeners.emit(line, (error) => this.logger.error({ err: error, gps: this.name }, 'GPS sentence listener threw'));
  }

  protected startTicker(): void {
    if (this.ticker) return;
    this.ticker = setInterval(() => {
      this.tick();
      this.report();
    }, this.tickMs);
    this.ticker.unref();
  }

  /** Called on every tick before the status is re-evaluated (adapters' liveness checks). */
  protected tick(): void {}

  protected stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
  }

  protected emitFix(fix: Fix): void {
    this.health.fix(fix);
    this.fixListeners.emit(fix, (error) => this.logger.error({ err: error, gps: this.name }, 'GPS fix listener threw'));
  }

  /** Re-evaluates the status; tells listeners and the log when the state or message changed. */
  protected report(): void {
    const status = this.status();
    const key = `${status.state}\n${status.message}`;
    if (key === this.lastReported) return;
    const previous = this.lastReported.split('\n')[0];
    this.lastReported = key;
    if (status.state === 'ok') {
      if (previous !== 'ok') this.logger.info({ gps: this.name, state: status.state }, status.message);
    } else {
      this.logger.warn({ gps: this.name, state: status.state }, status.message);
    }
    this.statusListeners.emit(status, (error) => this.logger.error({ err: error, gps: this.name }, 'GPS status listener threw'));
  }
}
