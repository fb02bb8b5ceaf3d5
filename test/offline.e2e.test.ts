import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outboxDepth, readOutbox, replay, startAgent } from './support/agent.js';
import { writeEventsJsonl } from './support/events.js';
import { useHubFixture } from './support/fixture.js';
import { fetchAllDetections } from './support/hub.js';
import { waitUntil } from './support/processes.js';

const BACKLOG = 50_000;

describe('offline backlog', () => {
  const fixture = useHubFixture();

  it(`keeps ${BACKLOG.toLocaleString('en')} events while the hub is down and drains them in seq order when it returns`, async () => {
    const hub = fixture.hub;
    const { secret } = await hub.addDevice('veh-offline');
    await hub.stop();

    const agentDir = join(fixture.dir, 'agent');
    const agent = startAgent({ dataDir: agentDir, deviceId: 'veh-offline', secret, hubUrl: hub.mqttUrl });
    try {
      // The running agent keeps retrying while a second process (replay) appends the backlog.
      await agent.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('no camera configured'), 30_000);
      const file = join(fixture.dir, 'backlog.jsonl');
      writeEventsJsonl(file, BACKLOG, 42);
      const imported = await replay(agentDir, file);
      expect(imported.code, imported.stderr).toBe(0);
      const queued = readOutbox(agentDir);
      expect(queued).toHaveLength(BACKLOG);
      expect(queued.map((q) => q.seq)).toEqual(Array.from({ length: BACKLOG }, (_, i) => i + 1));

      await hub.start();
      await waitUntil(() => outboxDepth(agentDir) === 0, 'the backlog to drain', 240_000, 500);

      const stored = await fetchAllDetections(hub);
      expect(stored).toHaveLength(BACKLOG);
      const bySeq = [...stored].sort((a, b) => a.seq - b.seq);
      expect(bySeq.map((d) => d.seq)).toEqual(queued.map((q) => q.seq));
      expect(bySeq.map((d) => d.eventId)).toEqual(queued.map((q) => q.eventId));
    } finally {
      await agent.kill('SIGTERM');
    }
  }, 400_000);
});
