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
 * Deliberately not part of it: camera, GPS, detector and hub connection faults. The service
 * recovers from those by itself (ffmpeg restarts with backoff, the serial port reopens, the uplink
 * reconnects) and names them in its status; a restart would only lose the tracks in progress.
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
