import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outboxDepth, readOutbox, replay, startAgent } from './support/agent.js';
import { writeEventsJsonl } from './support/events.js';
import { useHubFixture } from './support/fixture.js';
import { fetchAllDetections } from './support/hub.js';
import { sleep, waitUntil } from './support/processes.js';

const ROUNDS = 20;
const EVENTS_PER_ROUND = 4_000;
const HUB_KILL_EVERY = 4; // rounds 4, 8, 12, 16, 20 → 5 hub kills

/** Seeded so a failure can be replayed: ROADWATCH_CRASH_SEED=… npm test */
const seed = Number(process.env.ROADWATCH_CRASH_SEED ?? Date.now() % 100_000);
let state = seed;
const rand = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

describe(`crash safety (seed ${seed})`, () => {
  const fixture = useHubFixture();

  it(`kill -9 of the agent ${ROUNDS}× and the hub ${ROUNDS / HUB_KILL_EVERY}× mid-sync loses and duplicates nothing`, async () => {
    const hub = fixture.hub;
    const { secret } = await hub.addDevice('veh-crash');
    const agentDir = join(fixture.dir, 'agent');
    const expected = new Set<string>();
    let agentKills = 0;
    let hubKills = 0;
    let killedMidSync = 0;

    for (let round = 1; round <= ROUNDS; round++) {
      const file = join(fixture.dir, `round-${round}.jsonl`);
      writeEventsJsonl(file, EVENTS_PER_ROUND, round);
      const imported = await replay(agentDir, file);
      expect(imported.code, imported.stderr).toBe(0);
      for (const row of readOutbox(agentDir)) expected.add(row.eventId);

      const agent = startAgent({ dataDir: agentDir, deviceId: 'veh-crash', secret, hubUrl: hub.mqttUrl });
      await agent.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('connected to hub'), 30_000);
      // Kill only once sync is visibly under way (the outbox shrank), then at a random moment.
      const before = outboxDepth(agentDir);
      await waitUntil(() => outboxDepth(agentDir) < before, 'sync to start', 30_000, 10);
      await sleep(rand() * 120);
      const killHub = round % HUB_KILL_EVERY === 0;
      if (killHub) {
        await hub.kill9();
        hubKills++;
        await sleep(rand() * 200);
      }
      await agent.kill('SIGKILL');
      agentKills++;
      if (outboxDepth(agentDir) > 0) killedMidSync++;
      if (killHub) await hub.start();
    }
    expect(agentKills).toBeGreaterThanOrEqual(20);
    expect(hubKills).toBeGreaterThanOrEqual(5);
    // Most kills must interrupt a sync in progress, or the test proves little.
    expect(killedMidSync).toBeGreaterThanOrEqual(ROUNDS / 2);

    const finalAgent = startAgent({ dataDir: agentDir, deviceId: 'veh-crash', secret, hubUrl: hub.mqttUrl });
    try {
      await waitUntil(() => outboxDepth(agentDir) === 0, 'the outbox to drain after the crashes', 120_000);
    } finally {
      await finalAgent.kill('SIGTERM');
    }

    const stored = await fetchAllDetections(hub);
    const ids = stored.map((d) => d.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(ROUNDS * EVENTS_PER_ROUND);
    expect(new Set(ids)).toEqual(expected);
  }, 600_000);
});
