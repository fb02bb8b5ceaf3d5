import { accessSync, constants } from 'node:fs';
import type { Logger } from 'pino';
import type { OutboxStats } from '../outbox/outbox.js';
import { systemdNotifySender, watchdogTimeoutMs, type NotifySend } from './notify.js';

/** What the watchdog asks before each ping. */
export type HealthCheck = () => { ok: true; status: string } | { ok: false; reason: string };

/**
 * The service is healthy while its outbox answers and its data dir accepts writes: then events are
 * stored, and sync (which only moves rows) can proceed whenever a network is there. That the check
 * runs at all shows the event loop turns: a blocked loop sends no ping, and systemd restarts the
 * service after WatchdogSec.
 *
 * Deliberately not part of it: camera, GPS and hub connection faults, and a model that cannot be
 * loaded. The service recovers from the first three by itself (ffmpeg restarts with backoff, the
 * serial port reopens, the uplink reconnects) and names them in its status; a restart would only
 * lose the tracks in progress, and would not bring a missing model back. A detector that hangs is
 * the exception: see DetectStallWatch.
 */
export function outboxHealth(outbox: { stats(): OutboxStats }, dataDir: string, access: (path: string, mode: number) => void = accessSync): HealthCheck {
  return () => {
    let depth: number;
    try {
      depth = outbox.stats().depth;
    } catch (error) {
      return { ok: false, reason: `the outbox does not answer: ${(error as Error).message}` };
    }
    try {
      access(dataDir, constants.W_OK);
    } catch (error) {
      return { ok: false, reason: `data dir ${dataDir} is not writable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
    }
    return { ok: true, status: `running; outbox: ${depth} event${depth === 1 ? '' : 's'} waiting` };
  };
}

/** The detect stage's counters (DetectStageStats) the stall watch reads. */
export interface DetectProgress {
  detected: number;
  failed: number;
  inFlight: number;
}

/** Frames held in detection this long without one finishing: the inference worker hangs. */
export const DETECT_STALL_MS = 60_000;

/**
 * Whether the camera pipeline moves: it is wedged when frames sit in detection and none has come
 * out (detected or failed) for `stallMs`. A hung `session.run` is the one pipeline fault the agent
 * cannot recover from by itself — onnxruntime aborts the process when its worker is terminated
 * mid-run — so a restart by systemd is the remedy. No frames in flight (no camera frames, the
 * pipeline off, no camera configured) is not a stall: the camera restarts itself with backoff.
 */
export class DetectStallWatch {
  private last: { done: number; atMs: number } | null = null;

  constructor(
    private readonly read: () => DetectProgress | null,
    private readonly mono: () => number = () => performance.now(),
    readonly stallMs = DETECT_STALL_MS,
  ) {}

  check(): { ok: true; frames: number | null } | { ok: false; reason: string } {
    const progress = this.read();
    const now = this.mono();
    if (!progress) {
      this.last = null;
      return { ok: true, frames: null };
    }
    const done = progress.detected + progress.failed;
    if (!this.last || done !== this.last.done || progress.inFlight === 0) {
      this.last = { done, atMs: now };
      return { ok: true, frames: progress.detected };
    }
    const idleMs = now - this.last.atMs;
    if (idleMs < this.stallMs) return { ok: true, frames: progress.detected };
    return {
      ok: false,
      reason: `the detector has held ${progress.inFlight} frame${progress.inFlight === 1 ? '' : 's'} for ${Math.round(idleMs / 1000)} s without finishing one (inference hangs)`,
    };
  }
}

/**
 * The service's health for the watchdog: the outbox answers, the data dir takes writes and the
 * camera pipeline (when it runs) is not wedged. Pings stop while any of these fails.
 */
export function serviceHealth(outbox: HealthCheck, pipeline: DetectStallWatch | null): HealthCheck {
  return () => {
    const stored = outbox();
    if (!stored.ok) return stored;
    const moving = pipeline?.check() ?? { ok: true as const, frames: null };
    if (!moving.ok) return { ok: false, reason: moving.reason };
    return moving.frames === null ? stored : { ok: true, status: `${stored.status}; pipeline: ${moving.frames} frames detected` };
  };
}

export interface SystemdNotifierOptions {
  send: NotifySend;
  /** WatchdogSec in ms, or null without a watchdog. Pings go out every half of it. */
  watchdogMs: number | null;
  health: HealthCheck;
  logger: Logger;
  now?: () => number;
}

/**
 * READY=1 once the agent has started, then WATCHDOG=1 every WatchdogSec/2 while `health` says so,
 * with a STATUS= line (`systemctl status roadwatch-agent` shows it); STOPPING=1 on shutdown.
 * An unhealthy check sends only STATUS=unhealthy: …, so systemd restarts the service when the
 * condition lasts the whole WatchdogSec.
 */
export class SystemdNotifier {
  private timer: NodeJS.Timeout | undefined;
  private lastTick = 0;
  private pinging = false;
  private unhealthy: string | null = null;
  private sendFailing = false;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly options: SystemdNotifierOptions) {
    this.log = options.logger.child({ module: 'systemd' });
    this.now = options.now ?? Date.now;
  }

  get intervalMs(): number | null {
    return this.options.watchdogMs === null ? null : Math.max(1, Math.floor(this.options.watchdogMs / 2));
  }

  async ready(): Promise<void> {
    const check = this.options.health();
    await this.deliver(['READY=1', `STATUS=${check.ok ? check.status : `unhealthy: ${check.reason}`}`]);
    const interval = this.intervalMs;
    if (interval === null) return;
    this.lastTick = this.now();
    this.timer = setInterval(() => void this.tick(), interval);
    this.timer.unref();
    this.log.info({ watchdogMs: this.options.watchdogMs, pingEveryMs: interval }, 'systemd watchdog on');
  }

  /** One check and, when healthy, one ping (the timer calls it; public for tests). */
  async tick(): Promise<void> {
    const now = this.now();
    const late = now - this.lastTick - (this.intervalMs ?? 0);
    this.lastTick = now;
    if (this.options.watchdogMs !== null && late > this.options.watchdogMs / 2) {
      this.log.warn({ blockedMs: Math.round(late) }, 'the event loop was blocked for a while: watchdog pings were late');
    }
    if (this.pinging) return; // the previous systemd-notify has not returned yet
    this.pinging = true;
    try {
      const check = this.options.health();
      if (!check.ok) {
        if (this.unhealthy !== check.reason) {
          this.log.error({ reason: check.reason }, `unhealthy: ${check.reason} — watchdog pings stop; systemd restarts the service after WatchdogSec unless this clears`);
        }
        this.unhealthy = check.reason;
        await this.deliver([`STATUS=unhealthy: ${check.reason}`]);
        return;
      }
      if (this.unhealthy !== null) this.log.info('healthy again: watchdog pings resume');
      this.unhealthy = null;
      await this.deliver(['WATCHDOG=1', `STATUS=${check.status}`]);
    } finally {
      this.pinging = false;
    }
  }

  async stopping(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.deliver(['STOPPING=1', 'STATUS=stopping']);
  }

  private async deliver(assignments: string[]): Promise<void> {
    try {
      await this.options.send(assignments);
      if (this.sendFailing) this.log.info('systemd notifications delivered again');
      this.sendFailing = false;
    } catch (error) {
      if (!this.sendFailing) {
        this.log.error({ err: error }, `cannot notify systemd (${assignments[0]}): ${(error as Error).message} — is systemd-notify installed (apt install systemd) and the unit's NotifyAccess=all?`);
      }
      this.sendFailing = true;
    }
  }
}

/** A notifier when systemd asked for notifications ($NOTIFY_SOCKET), else null. */
export function systemdNotifier(env: NodeJS.ProcessEnv, health: HealthCheck, logger: Logger): SystemdNotifier | null {
  const send = systemdNotifySender(env);
  if (!send) return null;
  return new SystemdNotifier({ send, watchdogMs: watchdogTimeoutMs(env), health, logger });
}
