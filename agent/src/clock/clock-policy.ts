import type { ClockSource } from '@roadwatch/shared';

/**
 * Which clock stamps an event. A Raspberry Pi has no RTC: it may boot at 1970, or at the time
 * fake-hwclock saved at the last shutdown (days stale), and NTP needs a network the vehicle may not
 * have for days. The GPS receiver knows UTC to well under a second once it has a fix.
 *
 * Policy (pure; wall clock, monotonic clock and the NTP probe are injected):
 * - the wall clock is **implausible** when it is before `floorMs` (the release floor: no event can
 *   be older than the software), or when a GPS time is known and the wall clock disagrees with it
 *   by more than `maxSkewMs` (once implausible, it must come back within half of that: no flapping);
 * - GPS time is kept as an offset from the monotonic clock (gpsTime − monotonic at the fix), so it
 *   is extrapolated between fixes and through outages, and cannot jump when the wall clock does.
 *   Each observation is taken when the epoch's first byte arrived, i.e. a little *after* the
 *   instant it names (the receiver's output latency, typically 50–500 ms): the offset kept is the
 *   largest of the last `window` observations (the one with the least latency); a GPS time that
 *   moves by more than `maxSkewMs` starts over (the receiver re-synced). GPS times before the
 *   floor are ignored (the GPS week-rollover bug gives dates 19.6 years early);
 * - stamping: a plausible wall clock gives `system` (the rest of the system — logs, TLS — uses it
 *   too); otherwise a GPS time no older than `gpsHoldMs` gives `gps`; otherwise `unsynced` (the
 *   wall clock as it is, flagged). Without any GPS time, a wall clock after the floor is `system`,
 *   unless the NTP probe says the clock was never synchronised since boot: then `unsynced`.
 */
export interface ClockPolicyOptions {
  /** Wall clock, ms since the epoch (Date.now). */
  wall: () => number;
  /** Monotonic clock, ms (performance.now). */
  mono: () => number;
  /** No wall clock before this is plausible (see BUILD_FLOOR_MS). */
  floorMs: number;
  /** Wall vs GPS disagreement that makes the wall clock implausible (default 2 s). */
  maxSkewMs?: number;
  /** How long after the last GPS time the extrapolated GPS time is still used (default 6 h: monotonic drift is ~0.2 s/h). */
  gpsHoldMs?: number;
  /** GPS observations the offset is taken from (default 16). */
  window?: number;
  /** True/false when known whether NTP synchronised the clock since boot; null when unknown. */
  ntpSynced?: () => boolean | null;
}

export interface Timestamp {
  /** ms since the epoch */
  ms: number;
  /** ISO 8601 UTC */
  iso: string;
  clock: ClockSource;
}

export interface ClockState {
  clock: ClockSource;
  /** Why this clock is used, for `roadwatch doctor`/status. */
  reason: string;
  /** Wall clock minus GPS time now, ms; null without a GPS time. */
  wallMinusGpsMs: number | null;
  /** Age of the last GPS time, ms; null without one. */
  gpsAgeMs: number | null;
}

interface Observation {
  offset: number;
  mono: number;
}

export class ClockPolicy {
  private readonly maxSkewMs: number;
  private readonly gpsHoldMs: number;
  private readonly window: number;
  private observations: Observation[] = [];
  private wallDistrusted = false;

  constructor(private readonly options: ClockPolicyOptions) {
    this.maxSkewMs = options.maxSkewMs ?? 2000;
    this.gpsHoldMs = options.gpsHoldMs ?? 6 * 3600_000;
    this.window = options.window ?? 16;
  }

  /**
   * A GPS time: `gpsTime` (ISO or ms) was the time when the monotonic clock read `monoAtFix` (the
   * fix's `receivedAtMono`; now when not given). Returns false when the time was not used.
   */
  observeGps(gpsTime: string | number, monoAtFix?: number | null): boolean {
    const gpsMs = typeof gpsTime === 'number' ? gpsTime : Date.parse(gpsTime);
    if (!Number.isFinite(gpsMs) || gpsMs < this.options.floorMs) return false;
    const mono = monoAtFix ?? this.options.mono();
    const offset = gpsMs - mono;
    const current = this.offset();
    if (current !== null && Math.abs(offset - current) > this.maxSkewMs) this.observations = [];
    this.observations.push({ offset, mono });
    if (this.observations.length > this.window) this.observations.shift();
    return true;
  }

  /** Convenience for a GPS fix: uses it only when the receiver has a position (its clock is solved). */
  observeFix(fix: { time: string | null; mode: number; receivedAtMono: number | null }): boolean {
    return fix.time !== null && fix.mode >= 2 ? this.observeGps(fix.time, fix.receivedAtMono) : false;
  }

  /** The timestamp for something happening now. */
  now(): Timestamp {
    return this.at(this.options.mono());
  }

  /** The timestamp for something that happened when the monotonic clock read `mono` (a frame's capture time). */
  at(mono: number): Timestamp {
    const nowMono = this.options.mono();
    const { clock } = this.decide(nowMono);
    const offset = this.offset();
    const ms = clock === 'gps' && offset !== null ? mono + offset : this.options.wall() - (nowMono - mono);
    return { ms, iso: new Date(ms).toISOString(), clock };
  }

  /**
   * GPS time (ms) at the monotonic instant `mono`, whatever clock events are stamped with; null
   * without a GPS time younger than the hold time. Fixes carry GPS time, so this is the time base
   * to match frames to fixes on (a system clock within `maxSkewMs` of GPS is fine for an event's
   * timestamp, but a second of skew is 14 m at 50 km/h).
   */
  gpsTimeAt(mono: number): number | null {
    const offset = this.offset();
    const last = this.observations.at(-1);
    if (offset === null || !last || this.options.mono() - last.mono > this.gpsHoldMs) return null;
    return mono + offset;
  }

  state(): ClockState {
    const nowMono = this.options.mono();
    const { clock, reason } = this.decide(nowMono);
    const offset = this.offset();
    const last = this.observations.at(-1);
    return {
      clock,
      reason,
      wallMinusGpsMs: offset === null ? null : Math.round(this.options.wall() - (nowMono + offset)),
      gpsAgeMs: last ? Math.round(nowMono - last.mono) : null,
    };
  }

  private offset(): number | null {
    if (this.observations.length === 0) return null;
    return Math.max(...this.observations.map((o) => o.offset));
  }

  private decide(nowMono: number): { clock: ClockSource; reason: string } {
    const wall = this.options.wall();
    const offset = this.offset();
    const last = this.observations.at(-1);
    const gpsFresh = offset !== null && last !== undefined && nowMono - last.mono <= this.gpsHoldMs;
    const beforeFloor = wall < this.options.floorMs;
    if (gpsFresh) {
      const skew = Math.abs(wall - (nowMono + offset));
      const limit = this.wallDistrusted ? this.maxSkewMs / 2 : this.maxSkewMs;
      this.wallDistrusted = beforeFloor || skew > limit;
      if (!this.wallDistrusted) return { clock: 'system', reason: `system clock agrees with GPS (within ${Math.round(skew)} ms)` };
      return {
        clock: 'gps',
        reason: beforeFloor ? `system clock ${iso(wall)} is before the release floor ${iso(this.options.floorMs)}: GPS time used` : `system clock is off GPS time by ${Math.round(skew / 1000)} s: GPS time used`,
      };
    }
    if (beforeFloor) {
      return { clock: 'unsynced', reason: `system clock ${iso(wall)} is before the release floor ${iso(this.options.floorMs)} and there is no GPS time${offset === null ? '' : ' for hours'} — events are stamped unsynced until GPS or NTP sets the clock` };
    }
    const ntp = this.options.ntpSynced?.() ?? null;
    if (this.wallDistrusted && offset !== null && ntp !== true) {
      return { clock: 'unsynced', reason: 'system clock disagreed with GPS, and GPS time is too old to use — events are stamped unsynced' };
    }
    if (ntp === false) {
      return { clock: 'unsynced', reason: 'system clock not synchronised since boot (no NTP yet) and no GPS time — it may be stale' };
    }
    return { clock: 'system', reason: 'system clock (no GPS time to check it against)' };
  }
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
