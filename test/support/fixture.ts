import { afterAll, beforeAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createE2eDatabase } from './database.js';
import { HubProcess } from './hub.js';

/** A hub process on a fresh database (real Postgres when configured, else PGlite) in a temp dir. */
export async function startHubFixture(): Promise<{ hub: HubProcess; dir: string; teardown(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'rw-e2e-'));
  const database = await createE2eDatabase();
  const hub = new HubProcess({ dataDir: join(dir, 'hub'), databaseUrl: database.url });
  await hub.start();
  return {
    hub,
    dir,
    async teardown() {
      await hub.stop();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface HubFixture {
  readonly hub: HubProcess;
  readonly dir: string;
}

/** Registers beforeAll/afterAll for a hub fixture in the calling describe block. */
export function useHubFixture(): HubFixture {
  let fixture: Awaited<ReturnType<typeof startHubFixture>> | undefined;
  beforeAll(async () => {
    fixture = await startHubFixture();
  });
  afterAll(async () => fixture?.teardown());
  return {
    get hub() {
      return fixture!.hub;
    },
    get dir() {
      return fixture!.dir;
    },
  };
}
