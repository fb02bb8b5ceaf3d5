import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, writeSync, constants } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** True when `socat` can be run (CI installs it from apt; see .ci/run). */
export function haveSocat(): boolean {
  return spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
}

/**
 * A pseudo-terminal pair made by socat: `device` is the end a GPS source opens (like /dev/ttyUSB0),
 * `feeder` the end the test writes NMEA into. `unplug()` kills socat (both ends vanish, like a
 * receiver pulled out); `plug()` starts it again with the same link paths.
 */
export class PtyPair {
  private child: ChildProcess | null = null;

  constructor(
    readonly device: string,
    readonly feeder: string,
  ) {}

  async plug(): Promise<void> {
    if (this.child) return;
    const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.device}`, `pty,raw,echo=0,link=${this.feeder}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; i < 100; i++) {
      if (/starting data transfer loop/.test(stderr) && existsSync(this.device) && existsSync(this.feeder)) return;
      if (child.exitCode !== null) break;
      await sleep(20);
    }
    throw new Error(`socat did not make the pty pair: ${stderr}`);
  }

  async unplug(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  /** Writes into the feeder end (the receiver's side). */
  write(data: string | Buffer): void {
    const fd = openSync(this.feeder, constants.O_WRONLY | constants.O_NOCTTY);
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
    } finally {
      closeSync(fd);
    }
  }
}

/** Resolves when `check` returns true, polling; rejects with `what` (and `state()`, if given) after `timeoutMs`. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5000, state?: () => unknown): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${state ? `; state: ${JSON.stringify(state())}` : ''}`);
    await sleep(10);
  }
}
