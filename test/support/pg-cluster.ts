import { spawn } from 'node:child_process';
import { accessSync, chownSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../hub/src/testing/free-port.js';


/**
 * A private Postgres cluster for fault tests that stop and crash the database: initdb into a temp
 * dir, its own port on 127.0.0.1 and its own socket directory. It never touches a system cluster.
 * As root the server runs as the `postgres` user (Postgres refuses to run as root).
 */
const BIN_DIRS = [process.env.ROADWATCH_TEST_PG_BIN, '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/14/bin', '/usr/local/pgsql/bin'];

/** The directory holding initdb and pg_ctl, or null when Postgres binaries are not installed. */
export function findPgBin(): string | null {
  for (const dir of BIN_DIRS) {
    if (!dir) continue;
    try {
      accessSync(join(dir, 'initdb'), constants.X_OK);
      accessSync(join(dir, 'pg_ctl'), constants.X_OK);
      return dir;
    } catch {
      // next
    }
  }
  return null;
}

/** Why a private cluster cannot run here (binaries missing, root without a postgres user), or null. */
export function pgClusterUnavailable(): string | null {
  if (!findPgBin()) return 'no Postgres server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin — install postgresql or set ROADWATCH_TEST_PG_BIN';
  if (process.getuid?.() === 0 && postgresUser() === null) return 'running as root, but there is no `postgres` user to run the private cluster as';
  return null;
}

function postgresUser(): { uid: number; gid: number } | null {
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
    if (!line) return null;
    const [, , uid, gid] = line.split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return null;
  }
}

export type PgStopMode = 'fast' | 'immediate';

export class PgCluster {
  private running = false;

  private constructor(
    private readonly bin: string,
    readonly dir: string,
    readonly port: number,
    private readonly asPostgres: boolean,
  ) {}

  /** initdb (trust auth, superuser `postgres`) into a new temp dir on a free port; not started yet. */
  static async create(): Promise<PgCluster> {
    const reason = pgClusterUnavailable();
    if (reason) throw new Error(reason);
    const bin = findPgBin()!;
    const dir = mkdtempSync(join(tmpdir(), 'rw-pg-'));
    const user = process.getuid?.() === 0 ? postgresUser() : null;
    if (user) chownSync(dir, user.uid, user.gid);
    const cluster = new PgCluster(bin, dir, await freePort(), user !== null);
    await cluster.run('initdb', ['-D', cluster.dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], 60_000);
    return cluster;
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** Superuser URL of the `postgres` database. */
  get adminUrl(): string {
    return this.url('postgres');
  }

  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** pg_ctl start -w (fsync off: the tests crash the server, not the machine). */
  async start(): Promise<void> {
    const options = [`-p ${this.port}`, `-k ${this.dir}`, "-c listen_addresses=127.0.0.1", '-c fsync=off', '-c full_page_writes=off', '-c max_connections=200'].join(' ');
    await this.run('pg_ctl', ['start', '-w', '-t', '60', '-D', this.dataDir, '-l', join(this.dir, 'server.log'), '-o', options], 90_000);
    this.running = true;
  }

  /** pg_ctl stop: `fast` (clients disconnected, clean checkpoint) or `immediate` (a crash: recovery at the next start). */
  async stop(mode: PgStopMode = 'fast'): Promise<void> {
    if (!this.running) return;
    await this.run('pg_ctl', ['stop', '-w', '-t', '60', '-D', this.dataDir, '-m', mode], 90_000);
    this.running = false;
  }

  async createDatabase(name: string): Promise<string> {
    const client = new pg.Client({ connectionString: this.adminUrl });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } finally {
      await client.end();
    }
    return this.url(name);
  }

  /** The server log's last lines (for failure messages). */
  logTail(lines = 40): string {
    const file = join(this.dir, 'server.log');
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '';
  }

  async dispose(): Promise<void> {
    await this.stop('immediate').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private run(tool: string, args: string[], timeoutMs: number): Promise<void> {
    const path = join(this.bin, tool);
    const [cmd, argv] = this.asPostgres ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, argv, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`${tool} ${args.join(' ')} failed (${signal ?? code}):\n${output}\n${this.logTail()}`));
      });
    });
  }
}

