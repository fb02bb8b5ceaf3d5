import { constants, existsSync } from 'node:fs';
import { access, statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { formatAge, formatBytes } from '../cli/queue.js';
import { SCHEMA_VERSION } from '../outbox/migrations.js';
import { outboxPath } from '../outbox/paths.js';
import { fail, pass, skip, warn, type DoctorContext, type Outcome } from './types.js';

const HOUR = 3_600_000;
/** Events waiting longer than this mean the hub has not acked for a long time. */
const OLD_UNSYNCED_MS = 24 * HOUR;
/** Less free space than this and SQLite may fail to write at all. */
const MIN_FREE_BYTES = 64 * 1024 * 1024;
const FAIL_BELOW_H = 2;
const WARN_BELOW_H = 24;
const MOVE_AWAY = 'stop the service, move outbox.sqlite (with its -wal and -shm files) out of the data dir — the service starts an empty one; the moved file keeps its events';

/** SQLite integrity (`PRAGMA quick_check`), queue depth and oldest unsynced age, read-only (works while the service runs). */
export async function checkOutbox(ctx: DoctorContext): Promise<Outcome> {
  if (!ctx.field) return skip('outbox', 'not checked: the config is invalid');
  const path = outboxPath(ctx.field.dataDir);
  if (!existsSync(path)) {
    const dir = existingAncestor(ctx.field.dataDir);
    try {
      await access(dir, constants.W_OK);
    } catch {
      return fail('outbox', `${path} does not exist and ${dir} is not writable for this user`, 'give the service user the data dir (chown), or set ROADWATCH_DATA to a folder it may write');
    }
    ctx.outbox = { bytes: 0, recentBytes: 0, recentSinceMs: null };
    return pass('outbox', `${path}: not created yet (nothing queued)`, { path, exists: false });
  }
  let db: Database.Database;
  try {
    // Not `readonly`: a read-only connection creates the -wal and -shm files and leaves them behind,
    // owned by whoever runs the doctor (root), where the service could no longer open them. A
    // read-write connection that writes nothing removes them again when it closes.
    db = new Database(path, { fileMustExist: true, timeout: 5_000 });
  } catch (error) {
    return fail('outbox', `cannot open ${path}: ${(error as Error).message}`, 'run doctor as the service user (or root); if the file is damaged: ' + MOVE_AWAY);
  }
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) return fail('outbox', `${path} has schema ${version}, newer than this roadwatch (${SCHEMA_VERSION})`, 'install the newer roadwatch again; or ' + MOVE_AWAY);
    const check = (db.pragma('quick_check') as Array<{ quick_check: string }>).map((r) => r.quick_check);
    if (check.length !== 1 || check[0] !== 'ok') return fail('outbox', `${path} is damaged: ${check.slice(0, 3).join('; ')}`, MOVE_AWAY, { path, quickCheck: check.slice(0, 10) });
    if (version === 0) {
      ctx.outbox = { bytes: 0, recentBytes: 0, recentSinceMs: null };
      return pass('outbox', `${path}: integrity ok, empty`, { path, exists: true, depth: 0 });
    }
    const now = ctx.wall();
    const meta = db.prepare('SELECT depth, total_bytes AS bytes, last_ack_at AS lastAckAt, evicted_total AS evicted FROM meta WHERE id = 1').get() as { depth: number; bytes: number; lastAckAt: number | null; evicted: number };
    const oldest = (db.prepare('SELECT created_at FROM events ORDER BY seq LIMIT 1').pluck().get() as number | undefined) ?? null;
    const recent = db.prepare('SELECT coalesce(sum(bytes), 0) AS bytes, min(created_at) AS since FROM events WHERE created_at >= ?').get(now - 24 * HOUR) as { bytes: number; since: number | null };
    ctx.outbox = { bytes: meta.bytes, recentBytes: recent.bytes, recentSinceMs: recent.since };
    const data = { path, exists: true, depth: meta.depth, bytes: meta.bytes, oldestUnsyncedAgeS: oldest === null ? null : Math.round((now - oldest) / 1000), lastAckAt: meta.lastAckAt === null ? null : new Date(meta.lastAckAt).toISOString(), evictedTotal: meta.evicted };
    const age = oldest === null ? 'nothing unsynced' : `oldest unsynced ${formatAge(now - oldest)}`;
    const acked = meta.lastAckAt === null ? 'never acked' : `last ack ${formatAge(now - meta.lastAckAt)} ago`;
    const detail = `integrity ok; ${meta.depth.toLocaleString('en-US')} events (${formatBytes(meta.bytes)}) waiting, ${age}, ${acked}${meta.evicted > 0 ? `, ${meta.evicted.toLocaleString('en-US')} evicted by the caps so far` : ''}`;
    if (oldest !== null && now - oldest > OLD_UNSYNCED_MS) {
      return warn('outbox', detail, 'the hub has not taken these for over a day: see the hub checks, then roadwatch sync --now', data);
    }
    return pass('outbox', detail, data);
  } catch (error) {
    return fail('outbox', `reading ${path} failed: ${(error as Error).message}`, MOVE_AWAY);
  } finally {
    db.close();
  }
}

/**
 * Free space on the data dir's disk and the hours of buffer left at the current rate: the room is
 * the smaller of the free space and what outbox.maxBytes still allows; the rate is what was queued
 * (and not yet synced) over the last 24 hours, at least over one hour.
 */
export async function checkDisk(ctx: DoctorContext): Promise<Outcome> {
  if (!ctx.field) return skip('disk', 'not checked: the config is invalid');
  const dir = existingAncestor(ctx.field.dataDir);
  let free: number;
  try {
    const fs = await statfs(dir);
    free = fs.bavail * fs.bsize;
  } catch (error) {
    return fail('disk', `cannot read the free space of ${dir}: ${(error as Error).message}`, 'check the data dir (ROADWATCH_DATA)');
  }
  const maxBytes = ctx.field.outbox.maxBytes;
  const queued = ctx.outbox?.bytes ?? 0;
  const capRoom = Math.max(0, maxBytes - queued);
  const room = Math.min(free, capRoom);
  const now = ctx.wall();
  const recent = ctx.outbox;
  const spanMs = recent?.recentSinceMs == null ? null : Math.max(HOUR, now - recent.recentSinceMs);
  const ratePerHour = spanMs === null || !recent ? 0 : (recent.recentBytes / spanMs) * HOUR;
  const hours = ratePerHour > 0 ? room / ratePerHour : null;
  const data = { dir, freeBytes: free, maxBytes, queuedBytes: queued, roomBytes: room, ratePerHourBytes: Math.round(ratePerHour), bufferHours: hours === null ? null : Math.round(hours * 100) / 100 };
  const where = `${formatBytes(free)} free on ${dir}; ${formatBytes(queued)} queued of outbox.maxBytes ${formatBytes(maxBytes)}`;
  if (free < MIN_FREE_BYTES) return fail('disk', `only ${where}`, 'free disk space: SQLite needs room to write, and events are lost when it cannot', data);
  const rate = ratePerHour > 0 ? `${formatBytes(ratePerHour)}/h queued lately` : 'nothing queued in the last 24 h';
  const buffer = hours === null ? '' : `; room for ${hours < 10 ? hours.toFixed(1) : Math.round(hours)} h more at ${rate}`;
  const low = 'sync soon (bring the vehicle in range of the hub, roadwatch sync --now) or make room (raise outbox.maxBytes, free disk space): when the room runs out the oldest events are evicted';
  if (hours !== null && hours < FAIL_BELOW_H) return fail('disk', `${where}${buffer}`, low, data);
  if (hours !== null && hours < WARN_BELOW_H) return warn('disk', `${where}${buffer}`, low, data);
  if (free < capRoom) {
    return warn('disk', `${where}: the disk fills before outbox.maxBytes is reached${buffer}`, 'lower outbox.maxBytes (ROADWATCH_OUTBOX_MAX_BYTES) below the free space, so the cap — not a full disk — decides what is dropped', data);
  }
  return pass('disk', `${where}${buffer || `; ${rate}`}`, data);
}

/** The data dir, or its nearest parent that exists (the outbox creates the rest). */
function existingAncestor(path: string): string {
  let dir = resolve(path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
