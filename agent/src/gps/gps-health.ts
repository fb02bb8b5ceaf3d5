import { hasPosition, type Fix } from './fix.js';
import type { GpsState, GpsStatus } from './gps-source.js';

export interface GpsHealthOptions {
  /** How the device is named in messages: `GPS port /dev/ttyUSB0`, `gpsd at 127.0.0.1:2947`. */
  what: string;
  /** Monotonic clock, ms (performance.now). */
  now: () => number;
  /** Silence after which the state is no-data. */
  noDataAfterMs: number;
  /** Time without a position after which the no-fix message says so plainly. */
  noFixAfterMs: number;
  /** What to check when bytes come but no sentence does (serial: the baud rate). */
  garbledHint?: string;
  /** What to check when nothing comes at all. */
  silentHint?: string;
}

export interface StreamCounts {
  sentences: number;
  checksumErrors: number;
  badLines: number;
}

/**
 * The status logic shared by the sources (pure: the clock is injected, no timers). The source
 * reports what happens (opened, failed, bytes, fixes); `status()` turns it into a state and a
 * message that says what to do.
 */
export class GpsHealth {
  private openedAt: number | null = null;
  private opens = 0;
  private fault: string | null = null;
  private lastError: string | null = null;
  private lastByteAt: number | null = null;
  private lastSentenceAt: number | null = null;
  private lastSentenceCount = 0;
  private lastFix: Fix | null = null;
  private lastPositionFix: Fix | null = null;
  private lastPositionAt: number | null = null;
  private lastFixAt: number | null = null;

  private silentHint: string;

  constructor(private readonly options: GpsHealthOptions) {
    this.silentHint = options.silentHint ?? "check the receiver's power and cable";
  }

  /** Replaces the no-data hint (gpsd: "gpsd has no device"). */
  hint(silentHint: string): void {
    this.silentHint = silentHint;
  }

  opened(): void {
    this.opens += 1;
    this.openedAt = this.options.now();
    this.fault = null;
  }

  /** The device failed or went away; `message` says what to do. */
  failed(message: string): void {
    this.fault = message;
    this.lastError = message;
  }

  /** A problem that does not stop the stream (e.g. gpsd's ERROR report). */
  noted(message: string): void {
    this.lastError = message;
  }

  bytes(): void {
    this.lastByteAt = this.options.now();
  }

  /** Call after feeding bytes with the stream's running counts. */
  counts(counts: StreamCounts): void {
    if (counts.sentences !== this.lastSentenceCount) {
      this.lastSentenceCount = counts.sentences;
      this.lastSentenceAt = this.options.now();
    }
  }

  fix(fix: Fix): void {
    const now = this.options.now();
    this.lastFix = fix;
    this.lastFixAt = now;
    if (hasPosition(fix)) {
      this.lastPositionFix = fix;
      this.lastPositionAt = now;
    }
  }

  status(counts: StreamCounts): GpsStatus {
    const now = this.options.now();
    const { state, message } = this.evaluate(now, counts);
    const last = this.lastPositionFix;
    return {
      state,
      message,
      lastFixAt: last ? (last.time ?? last.timeOfDay) : null,
      lastFixAgeMs: this.lastPositionAt === null ? null : Math.max(0, Math.round(now - this.lastPositionAt)),
      lastFix: this.lastFix,
      sentences: counts.sentences,
      checksumErrors: counts.checksumErrors,
      badLines: counts.badLines,
      reopenCount: Math.max(0, this.opens - 1),
      lastError: this.lastError,
    };
  }

  private evaluate(now: number, counts: StreamCounts): { state: GpsState; message: string } {
    const { what, noDataAfterMs, noFixAfterMs } = this.options;
    if (this.fault !== null) return { state: 'fault', message: this.fault };
    if (this.openedAt === null) return { state: 'no-data', message: `${what}: not started` };
    const since = (t: number | null) => (t === null ? Infinity : now - t);
    const quietFor = Math.min(since(this.lastSentenceAt), now - this.openedAt);
    if (this.lastSentenceAt === null || since(this.lastSentenceAt) > noDataAfterMs) {
      if (quietFor <= noDataAfterMs) return { state: 'no-data', message: `${what}: waiting for data` };
      const secs = Math.round(Math.min(since(this.lastSentenceAt), now - this.openedAt) / 1000);
      if (since(this.lastByteAt) <= noDataAfterMs) {
        return {
          state: 'no-data',
          message: `${what}: bytes arrive but no valid NMEA sentence for ${secs} s (${counts.checksumErrors} checksum errors, ${counts.badLines} bad lines)${this.options.garbledHint ? ` — ${this.options.garbledHint}` : ''}`,
        };
      }
      return { state: 'no-data', message: `${what}: nothing received for ${secs} s — ${this.silentHint}` };
    }
    if (this.lastFix !== null && hasPosition(this.lastFix) && since(this.lastFixAt) <= noDataAfterMs) {
      return { state: 'ok', message: `${what}: ${this.lastFix.mode}D fix` };
    }
    const withoutFix = since(this.lastPositionAt === null ? this.openedAt : this.lastPositionAt);
    if (withoutFix <= noFixAfterMs) {
      return { state: 'no-fix', message: this.lastPositionAt === null ? `${what}: receiving, waiting for a first fix` : `${what}: fix lost, waiting for it to come back` };
    }
    return {
      state: 'no-fix',
      message: `${what}: no fix for ${Math.round(withoutFix / 1000)} s — the receiver answers but has no position: give the antenna a clear view of the sky (roof or windscreen, not inside a metal box)`,
    };
  }
}
