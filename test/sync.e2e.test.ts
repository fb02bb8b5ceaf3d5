import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outboxDepth, readOutbox, replay, startAgent } from './support/agent.js';
import { writeEventsJsonl } from './support/events.js';
import { useHubFixture } from './support/fixture.js';
import { fetchAllDetections } from './support/hub.js';
import { waitUntil } from './support/processes.js';

describe('sync spine: replay → outbox → MQTT → hub → database', () => {
  const fixture = useHubFixture();

  it('delivers 10,000 replayed events exactly once and empties the outbox', async () => {
    const hub = fixture.hub;
    const { secret } = await hub.addDevice('veh-e2e-1');
    const agentDir = join(fixture.dir, 'agent');
    const file = join(fixture.dir, 'events.jsonl');
    writeEventsJsonl(file, 10_000, 7);

    const imported = await replay(agentDir, file);
    expect(imported.code, imported.stderr).toBe(0);
    const queued = readOutbox(agentDir);
    expect(queued).toHaveLength(10_000);

    const agent = startAgent({ dataDir: agentDir, deviceId: 'veh-e2e-1', secret, hubUrl: hub.mqttUrl });
    try {
      await waitUntil(() => outboxDepth(agentDir) === 0, 'the outbox to drain', 120_000);
    } finally {
      await agent.kill('SIGTERM');
    }
    expect(await agent.exited).toBe(0);

    const stored = await fetchAllDetections(hub);
    expect(stored).toHaveLength(10_000);
    expect(new Set(stored.map((d) => d.eventId))).toEqual(new Set(queued.map((q) => q.eventId)));
    expect(stored.every((d) => d.deviceId === 'veh-e2e-1')).toBe(true);
  });
});
