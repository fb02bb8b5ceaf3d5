import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export const ADMIN_FILE_NAME = 'admin.json';

/** What a running `serve` publishes so local CLIs can reach its admin API. */
export const AdminFileSchema = z.object({
  url: z.string().url(),
  token: z.string().min(16),
  pid: z.number().int().positive(),
});
export type AdminFile = z.infer<typeof AdminFileSchema>;

export function adminFilePath(dataDir: string): string {
  return join(dataDir, ADMIN_FILE_NAME);
}

/** A fresh random admin token (256 bits, URL-safe). */
export function newAdminToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Writes the file atomically, readable by the hub's own user only (mode 0600). */
export function writeAdminFile(dataDir: string, content: AdminFile): string {
  const path = adminFilePath(dataDir);
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
  return path;
}

/** The file's content, or null when it is missing or unreadable. */
export function readAdminFile(dataDir: string): AdminFile | null {
  try {
    const parsed = AdminFileSchema.safeParse(JSON.parse(readFileSync(adminFilePath(dataDir), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Removes the file if it is still the one this hub wrote (another hub may have replaced it). */
export function removeAdminFile(dataDir: string, token: string): void {
  if (readAdminFile(dataDir)?.token !== token) return;
  try {
    unlinkSync(adminFilePath(dataDir));
  } catch {
    /* already gone */
  }
}

/** The URL local clients use for a server bound to `host` (a wildcard address means loopback). */
export function localUrl(host: string, port: number): string {
  if (host === '0.0.0.0' || host === '' ) return `http://127.0.0.1:${port}`;
  if (host === '::' || host === '[::]') return `http://[::1]:${port}`;
  return host.includes(':') && !host.startsWith('[') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}
