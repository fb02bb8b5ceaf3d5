import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setMosquittoPassword } from '../../cli/mosquitto-passwd.js';
import { freePort } from '../../testing/free-port.js';

/** The shipped broker configuration the tests run (deploy/mosquitto). */
export const DEPLOY_DIR = fileURLToPath(new URL('../../../../deploy/mosquitto/', import.meta.url));

/** The mosquitto binary (often in /usr/sbin, outside a user's PATH), or null when it is not installed. */
export function findMosquitto(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/opt/homebrew/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, 'mosquitto');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return null;
}

export interface TestMosquitto {
  /** The vehicles' listener (use_username_as_clientid) and the hub replicas' listener. */
  deviceUrl: string;
  hubUrl: string;
  passwdFile: string;
  /** What the broker logged so far (its start-up errors on stderr, then its log file). */
  log(): string;
  /** SIGHUP: the broker reloads its password and ACL files. */
  reload(): void;
  /** SIGTERM and wait (sessions are saved to its persistence file). */
  stop(): Promise<void>;
  /** Starts it again on the same ports with the same persistence. */
  start(): Promise<void>;
  /** stop() and remove its directory. */
  dispose(): Promise<void>;
}

/**
 * A private mosquitto on two free ports, run from a temporary copy of deploy/mosquitto/mosquitto.conf
 * (ports, password file and persistence directory replaced; the shipped acl file used as it is),
 * with the given users written to its password file by roadwatch-hub's own writer. It never
 * touches a broker already running on the machine.
 */
export async function startMosquitto(binary: string, users: Record<string, string>): Promise<TestMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'rw-mosquitto-'));
  const passwdFile = join(dir, 'passwd');
  for (const [user, password] of Object.entries(users)) setMosquittoPassword(passwdFile, user, password);
  mkdirSync(join(dir, 'data'));
  const [devicePort, hubPort] = [await freePort(), await freePort()];
  const confFile = join(dir, 'mosquitto.conf');
  const logFile = join(dir, 'mosquitto.log');
  writeFileSync(confFile, testConfig(readFileSync(join(DEPLOY_DIR, 'mosquitto.conf'), 'utf8'), { dir, passwdFile, logFile, devicePort, hubPort }));

  let child: ChildProcess | null = null;
  let output = '';
  const start = async (): Promise<void> => {
    const proc = spawn(binary, ['-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) => reject(new Error(`mosquitto exited (code ${code}) before listening:\n${output}`))),
    );
    await Promise.race([Promise.all([waitForPort(devicePort), waitForPort(hubPort)]), exited]);
    exited.catch(() => undefined);
  };
  const stop = async (): Promise<void> => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  await start();
  return {
    deviceUrl: `mqtt://127.0.0.1:${devicePort}`,
    hubUrl: `mqtt://127.0.0.1:${hubPort}`,
    passwdFile,
    log: () => output + (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    reload: () => {
      child?.kill('SIGHUP');
    },
    stop,
    start,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The shipped configuration with this test's ports and files; fails when a directive it replaces is gone. */
export function testConfig(shipped: string, o: { dir: string; passwdFile: string; logFile: string; devicePort: number; hubPort: number }): string {
  const replacements: Array<[RegExp, string]> = [
    [/^password_file .*$/m, `password_file ${o.passwdFile}`],
    [/^acl_file .*$/m, `acl_file ${join(DEPLOY_DIR, 'acl')}`],
    [/^persistence_location .*$/m, `persistence_location ${join(o.dir, 'data')}/`],
    [/^listener 1883$/m, `listener ${o.devicePort} 127.0.0.1`],
    [/^listener 1884$/m, `listener ${o.hubPort} 127.0.0.1`],
    // To a file, not a pipe: a test or benchmark process busy for a moment would stop reading the pipe,
    // and mosquitto blocks on a full pipe — under a connect storm the whole broker stalled with it.
    [/^log_dest stderr$/m, `log_dest file ${o.logFile}`],
  ];
  let text = shipped;
  for (const [pattern, line] of replacements) {
    if (!pattern.test(text)) throw new Error(`deploy/mosquitto/mosquitto.conf has no line matching ${pattern}: update the test helper with it`);
    text = text.replace(pattern, line);
  }
  // As root mosquitto would switch to the `mosquitto` user, who cannot read this private directory.
  if (process.getuid?.() === 0) text = `user root\n${text}`;
  return text;
}


async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
