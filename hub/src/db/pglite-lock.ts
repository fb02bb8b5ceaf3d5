import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@roadwatch/shared';

/**
 * PGlite is a single-process database: two processes opening the same data dir corrupt it.
 * A pid lock file guards the directory; a lock whose pid is gone is stale and taken over.
 */
export const PGLITE_SUBDIR = 'pglite';
export const PGLITE_LOCK_FILE = '.roadwatch.lock';

/** Data dirs this process holds, so a lock with our own pid is only "ours" when we really took it (pid 1 in containers). */
const heldByThisProcess = new Set<string>();

export function pgliteDir(dataDir: string): string {
  return join(dataDir, PGLITE_SUBDIR);
}

function lockPath(dataDir: string): string {
  return join(pgliteDir(dataDir), PGLITE_LOCK_FILE);
}

function readLockPid(path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid of the live process holding the embedded database, or null when it is free (or the lock is stale). */
export function pgliteLockHolder(dataDir: string): number | null {
  const path = lockPath(dataDir);
  const pid = readLockPid(path);
  if (pid === null) return null;
  if (pid === process.pid) return heldByThisProcess.has(path) ? pid : null;
  return isAlive(pid) ? pid : null;
}

/** True when a live process (maybe this one) has the embedded database open: go through its admin API instead. */
export function isPgliteLocked(dataDir: string): boolean {
  return pgliteLockHolder(dataDir) !== null;
}

/** Takes the lock or throws a UserError naming the holder. Returns the release function. */
export function acquirePgliteLock(dataDir: string): () => void {
  const dir = pgliteDir(dataDir);
  const path = lockPath(dataDir);
  mkdirSync(dir, { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      heldByThisProcess.add(path);
      return () => release(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new UserError(`cannot write the database lock ${path}: ${(err as Error).message}`, 'check that the data dir is writable by this user');
      }
    }
    const holder = pgliteLockHolder(dataDir);
    if (holder !== null) {
      throw new UserError(
        `the embedded database in ${dir} is already open by process ${holder}`,
        'stop that process, use its admin API (roadwatch-hub talks to a running serve), or set DATABASE_URL to use Postgres',
      );
    }
    // Stale lock from a process that died: remove and retry (wx makes a race with another taker safe).
    try {
      unlinkSync(path);
    } catch {
      /* someone else removed it first */
    }
  }
  throw new UserError(`cannot take the database lock ${path}`, 'another process keeps taking it; stop other roadwatch-hub processes');
}

function release(path: string): void {
  if (!heldByThisProcess.delete(path)) return;
  if (readLockPid(path) !== process.pid) return;
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
