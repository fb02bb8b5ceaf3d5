import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminFilePath, localUrl, newAdminToken, readAdminFile, removeAdminFile, writeAdminFile } from './admin-file.js';

describe('admin.json', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rw-admin-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is written with mode 0600, read back, and removed only by its writer', () => {
    const token = newAdminToken();
    writeAdminFile(dir, { url: 'http://127.0.0.1:8080', token, pid: process.pid });
    expect(statSync(adminFilePath(dir)).mode & 0o777).toBe(0o600);
    expect(readAdminFile(dir)).toEqual({ url: 'http://127.0.0.1:8080', token, pid: process.pid });
    removeAdminFile(dir, 'someone-elses-token-xxxxxxxx');
    expect(readAdminFile(dir)).not.toBeNull();
    removeAdminFile(dir, token);
    expect(readAdminFile(dir)).toBeNull();
  });

  it('reads a missing or damaged file as null', () => {
    expect(readAdminFile(dir)).toBeNull();
    writeFileSync(adminFilePath(dir), '{oops');
    expect(readAdminFile(dir)).toBeNull();
  });

  it('maps wildcard hosts to loopback', () => {
    expect(localUrl('0.0.0.0', 80)).toBe('http://127.0.0.1:80');
    expect(localUrl('::', 80)).toBe('http://[::1]:80');
    expect(localUrl('10.0.0.5', 80)).toBe('http://10.0.0.5:80');
    expect(localUrl('fe80::1', 80)).toBe('http://[fe80::1]:80');
  });
});
