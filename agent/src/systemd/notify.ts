import { execFile } from 'node:child_process';

/**
 * Sends one sd_notify message (`READY=1`, `WATCHDOG=1`, `STATUS=…`, `STOPPING=1`) to the service
 * manager. Resolves when it was delivered, rejects with the reason otherwise.
 */
export type NotifySend = (assignments: readonly string[]) => Promise<void>;

/** Runs a program with arguments; rejects on a non-zero exit or a failure to start. */
export type ExecFile = (file: string, args: readonly string[]) => Promise<void>;

const execFileAsync: ExecFile = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: 10_000, windowsHide: true }, (error, _stdout, stderr) => {
      if (error) reject(Object.assign(error, { message: `${error.message}${stderr ? `: ${String(stderr).trim()}` : ''}` }));
      else resolve();
    });
  });

/**
 * sd_notify through the `systemd-notify` program, or null when the service manager did not ask for
 * notifications (no `$NOTIFY_SOCKET`: not started by systemd with Type=notify).
 *
 * Why a child process: `$NOTIFY_SOCKET` is a unix *datagram* socket, which Node cannot open (its
 * `net` module speaks unix streams, `dgram` only UDP). The alternatives are native addons
 * (`unix-dgram`, `sd-notify`) that must be compiled and shipped for every target architecture;
 * `systemd-notify` is on every systemd machine. It costs one short-lived process per message (a
 * watchdog ping every WatchdogSec/2 = 15 s). Because the message then comes from a child, the unit
 * needs `NotifyAccess=all` (deploy/systemd/roadwatch-agent.service); `--pid` names the agent as the
 * sender, which systemd honours when the agent runs as root. systemd-notify waits until the manager
 * has processed the message (a notify barrier), so it is never attributed to an exited process.
 */
export function systemdNotifySender(env: NodeJS.ProcessEnv, exec: ExecFile = execFileAsync, pid = process.pid): NotifySend | null {
  const socket = env.NOTIFY_SOCKET;
  if (socket === undefined || socket === '') return null;
  return (assignments) => exec('systemd-notify', [`--pid=${pid}`, ...assignments]);
}

/**
 * The watchdog period systemd expects pings in (`$WATCHDOG_USEC`, set by WatchdogSec=), in ms; null
 * when there is none or it is meant for another process (`$WATCHDOG_PID`).
 */
export function watchdogTimeoutMs(env: NodeJS.ProcessEnv, pid = process.pid): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && Number(env.WATCHDOG_PID) !== pid) return null;
  return usec / 1000;
}
