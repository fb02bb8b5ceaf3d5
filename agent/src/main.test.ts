import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createAgent } from './main.js';
import { sampleEvents } from './outbox/testing/sample-events.js';
import { FakeHub } from './uplink/testing/fake-hub.js';
import { memoryLogger, testConfig, waitFor } from './uplink/testing/harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('createAgent', () => {
  it('creates the data dir, opens the outbox, syncs it through the uplink and stops cleanly', async () => {
    const hub = await FakeHub.start();
    cleanups.push(() => hub.close());
    const root = mkdtempSync(join(tmpdir(), 'roadwatch-agent-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const { logger, lines } = memoryLogger('info');
    const agent = createAgent(testConfig({ hubUrl: hub.url, dataDir: join(root, 'nested', 'agent') }), { logger });
    cleanups.push(() => agent.stop());

    agent.outbox.append(sampleEvents(300));
    await agent.start();
    await waitFor('outbox drained', () => agent.outbox.stats().depth === 0);
    expect(hub.storedCount).toBe(300);
    expect(lines.filter((l) => l.msg === 'no camera configured: running outbox and uplink only')).toHaveLength(1);

    await agent.stop();
    expect(agent.uplink.uplinkState).toBe('stopped');
    expect(() => agent.outbox.stats()).toThrow();
  });
});
