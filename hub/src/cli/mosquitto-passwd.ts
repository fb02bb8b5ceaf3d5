import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, constants, accessSync, chmodSync, chownSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '@roadwatch/shared';

/**
 * Mosquitto 2 password files, written by roadwatch-hub itself (docs/SCALE-OUT.md#provisioning).
 *
 * One `user:hash` line per user; the hash is `$7$<iterations>$<salt>$<key>`: PBKDF2-HMAC-SHA512,
 * a 12-byte random salt and a 64-byte key, both standard base64 — what `mosquitto_passwd` 2.x
 * writes. 101 iterations is mosquitto_passwd's default: the broker runs the KDF at every CONNECT
 * (a fleet reconnecting at once), and what protects a device is that its secret is 256 random bits.
 *
 * `mosquitto_passwd` is not called: it takes the password on its command line (`-b`), where every
 * user of the machine can read it in `ps`.
 */
export const MOSQUITTO_PBKDF2_ITERATIONS = 101;
const SALT_BYTES = 12;
const KEY_BYTES = 64;
const LOCK_WAIT_MS = 5_000;

export function mosquittoHash(password: string, options: { iterations?: number; salt?: Buffer } = {}): string {
  const iterations = options.iterations ?? MOSQUITTO_PBKDF2_ITERATIONS;
  const salt = options.salt ?? randomBytes(SALT_BYTES);
  const key = pbkdf2Sync(password, salt, iterations, KEY_BYTES, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether `password` matches a `$7$` hash (what Mosquitto checks at CONNECT). */
export function verifyMosquittoHash(password: string, hash: string): boolean {
  const match = /^\$7\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(hash);
  if (!match) return false;
  const expected = Buffer.from(match[3]!, 'base64');
  const key = pbkdf2Sync(password, Buffer.from(match[2]!, 'base64'), Number(match[1]), expected.length, 'sha512');
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A user name Mosquitto can read back from its password file. */
export function checkMosquittoUser(username: string): void {
  if (!/^[^:\s]{1,128}$/.test(username)) {
    throw new UserError(`"${username}" cannot be a Mosquitto user name`, 'use 1–128 characters without ":" or white space');
  }
}

export type PasswdChange = 'added' | 'updated' | 'removed' | 'absent';

export interface PasswdResult {
  file: string;
  change: PasswdChange;
  /** True when the file did not exist and was created (mode 0600, owned by whoever ran the command). */
  created: boolean;
}

/** Adds the user, or replaces its hash; other lines (users, comments) are kept as they are. */
export function setMosquittoPassword(file: string, username: string, password: string): PasswdResult {
  checkMosquittoUser(username);
  return updatePasswdFile(file, (lines) => {
    const line = `${username}:${mosquittoHash(password)}`;
    const index = lines.findIndex((l) => userOf(l) === username);
    if (index >= 0) {
      lines[index] = line;
      return 'updated';
    }
    lines.push(line);
    return 'added';
  });
}

/**
 * Adds or replaces many users in one read and one write of the file (a fleet provisioned in bulk,
 * scripts/fleet): `change` is `updated` when any user already had a line, else `added`.
 */
export function setMosquittoPasswords(file: string, users: Iterable<readonly [username: string, password: string]>): PasswdResult {
  const entries = [...users];
  for (const [username] of entries) checkMosquittoUser(username);
  return updatePasswdFile(file, (lines) => {
    const index = new Map<string, number>();
    lines.forEach((l, i) => {
      const user = userOf(l);
      if (user) index.set(user, i);
    });
    let updated = false;
    for (const [username, password] of entries) {
      const line = `${username}:${mosquittoHash(password)}`;
      const at = index.get(username);
      if (at === undefined) index.set(username, lines.push(line) - 1);
      else {
        lines[at] = line;
        updated = true;
      }
    }
    return updated ? 'updated' : 'added';
  });
}

/** Removes the user's line; `absent` when it had none. */
export function removeMosquittoUser(file: string, username: string): PasswdResult {
  checkMosquittoUser(username);
  return updatePasswdFile(file, (lines) => {
    const before = lines.length;
    const kept = lines.filter((l) => userOf(l) !== username);
    lines.splice(0, lines.length, ...kept);
    return kept.length < before ? 'removed' : 'absent';
  });
}

/** The users of a password file (tests, `broker passwd`'s report). */
export function mosquittoUsers(file: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const line of readLines(file)) {
    const user = userOf(line);
    if (user) users.set(user, line.slice(user.length + 1));
  }
  return users;
}

/**
 * Throws a UserError naming the fix when the file cannot be written (checked before a device is
 * registered, so a typo in the path does not leave a device the broker does not know).
 */
export function checkPasswdFileWritable(file: string): void {
  const target = exists(file) ? file : dirname(file);
  try {
    accessSync(target, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its directory does not exist' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (error as Error).message;
    throw new UserError(`Mosquitto password file ${file}: ${why}`, 'pass the password_file of your mosquitto.conf (--mosquitto-passwd) and run as a user who may write it');
  }
}

function updatePasswdFile(file: string, edit: (lines: string[]) => PasswdChange): PasswdResult {
  checkPasswdFileWritable(file);
  const unlock = lock(file);
  try {
    const existed = exists(file);
    const lines = existed ? readLines(file) : [];
    const change = edit(lines);
    if (change !== 'absent' || !existed) writeAtomically(file, lines.length ? `${lines.join('\n')}\n` : '', existed ? statSync(file) : null);
    return { file, change, created: !existed };
  } finally {
    unlock();
  }
}

/** Temp file + rename, keeping mode and owner; in place when the file is a mount point (a Docker bind mount of one file). */
function writeAtomically(file: string, text: string, previous: Stats | null): void {
  const mode = previous ? previous.mode & 0o777 : 0o600;
  const temp = join(dirname(file), `.${basename(file)}.roadwatch-${process.pid}-${randomBytes(4).toString('hex')}`);
  writeFileSync(temp, text, { mode, flag: 'wx' });
  try {
    chmodSync(temp, mode);
    if (previous) {
      try {
        chownSync(temp, previous.uid, previous.gid);
      } catch {
        // Not root: the file becomes ours, with the same mode.
      }
    }
    renameSync(temp, file);
  } catch (error) {
    unlinkSafe(temp);
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EBUSY' && code !== 'EXDEV') throw error;
    writeFileSync(file, text);
  }
}

function lock(file: string): () => void {
  const lockFile = `${file}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(lockFile, 'wx', 0o600));
      return () => unlinkSafe(lockFile);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (Date.now() > deadline) {
        throw new UserError(`Mosquitto password file ${file} is locked by ${lockFile}`, 'another roadwatch-hub command is writing it; if none runs, delete the lock file');
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
}

function readLines(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text.split(/\r?\n/).filter((line, i, all) => line !== '' || i < all.length - 1);
}

function userOf(line: string): string | null {
  if (line.startsWith('#')) return null;
  const colon = line.indexOf(':');
  return colon > 0 ? line.slice(0, colon) : null;
}

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

function unlinkSafe(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}
