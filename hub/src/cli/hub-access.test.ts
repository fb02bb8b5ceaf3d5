import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '@roadwatch/shared';
import { describe, expect, it } from 'vitest';
import { writeAdminFile } from '../api/admin/admin-file.js';
import { HubConfigSchema } from '../config/schema.js';
import { acquirePgliteLock } from '../db/pglite-lock.js';
import { testLogger } from '../db/testing/databases.js';
import { openHubAccess } from './hub-access.js';

describe('openHubAccess', () => {
  it('waits for a starting hub, then explains that the database is held by a process without an admin API', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rw-access-'));
    const release = acquirePgliteLock(dataDir);
    try {
      // A stale admin.json (nothing listens there) is ignored.
      writeAdminFile(dataDir, { url: 'http://127.0.0.1:9', token: 'x'.repeat(32), pid: process.pid });
      const started = Date.now();
      const error = await openHubAccess(HubConfigSchema.parse({ dataDir }), testLogger(), { waitForHubMs: 400 }).catch((e: unknown) => e);
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toMatch(new RegExp(`is open by process ${process.pid}, but no running hub answers through .*admin\\.json`));
    } finally {
      release();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
