import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export type SpawnFn = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export const defaultSpawn: SpawnFn = (command, args, options) => nodeSpawn(command, args, options);

const closedOf = new WeakMap<ChildProcess, Promise<void>>();

/**
 * Resolves null once the process runs, or the error that kept it from starting (ENOENT, EACCES).
 * Error listeners stay on the child and its pipes: a late error (EPIPE on a dead ffmpeg's stdin, a
 * failed kill) must never become an unhandled 'error' event that ends the agent.
 */
export function started(child: ChildProcess): Promise<NodeJS.ErrnoException | null> {
  child.on('error', ignore);
  for (const stream of child.stdio) stream?.on('error', ignore);
  closedOf.set(child, new Promise((resolve) => child.once('close', () => resolve())));
  return new Promise((resolve) => {
    child.once('spawn', () => resolve(null));
    child.once('error', (error) => resolve(error));
  });
}

/** Resolves when the process has exited and its pipes are closed (for a child passed through `started`). */
export function closed(child: ChildProcess): Promise<void> {
  return closedOf.get(child) ?? Promise.resolve();
}

export function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

/**
 * SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited and its pipes are
 * closed (at most `graceMs` after SIGKILL, whatever holds a pipe). `group`: signal the whole process
 * group, which outlives its leader (producers run detached so a shell's children go too).
 */
export async function terminate(child: ChildProcess, graceMs: number, group = false): Promise<void> {
  if (child.pid === undefined) return;
  const pid = child.pid;
  const done = closed(child);
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (group) process.kill(-pid, sig);
      else if (isRunning(child)) child.kill(sig);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  if (await within(done, graceMs)) {
    if (group) signal('SIGKILL'); // whatever of the group ignored SIGTERM
    return;
  }
  signal('SIGKILL');
  await within(done, graceMs);
}

/** True when `promise` settled within `ms`. */
async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function ignore(): void {}
