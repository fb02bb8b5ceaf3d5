import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Status } from '@roadwatch/shared';
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
    const statuses: Status[] = [];
    await new Promise<void>((resolve) =>
      hub.broker.subscribe('roadwatch/v1/devices/+/status', (packet, done) => {
        statuses.push(JSON.parse(packet.payload.toString()) as Status);
        done();
      }, resolve),
    );
    const { logger, lines } = memoryLogger('info');
    const agent = createAgent(testConfig({ hubUrl: hub.url, dataDir: join(root, 'nested', 'agent') }), { logger });
    cleanups.push(() => agent.stop());

    agent.outbox.append(sampleEvents(300));
    await agent.start();
    await waitFor('outbox drained', () => agent.outbox.stats().depth === 0);
    expect(hub.storedCount).toBe(300);
    await waitFor('an online status', () => statuses.some((s) => s.state === 'online'));
    // No camera pipeline, no detector: the status leaves the detector section out.
    expect(statuses.find((s) => s.state === 'online')!.detector).toBeUndefined();
    expect(lines.filter((l) => l.msg === 'no camera configured: running outbox and uplink only')).toHaveLength(1);

    await agent.stop();
    expect(agent.uplink.uplinkState).toBe('stopped');
    expect(() => agent.outbox.stats()).toThrow();
  });

  it('keeps syncing when the camera and GPS are missing, and reports both faults with their fixes in the status', async () => {
    const hub = await FakeHub.start();
    cleanups.push(() => hub.close());
    const root = mkdtempSync(join(tmpdir(), 'roadwatch-agent-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const statuses: Status[] = [];
    await new Promise<void>((resolve) =>
      hub.broker.subscribe('roadwatch/v1/devices/+/status', (packet, done) => {
        statuses.push(JSON.parse(packet.payload.toString()) as Status);
        done();
      }, resolve),
    );
    const { logger } = memoryLogger('silent');
    const config = testConfig({
      hubUrl: hub.url,
      dataDir: join(root, 'agent'),
      uplink: { statusIntervalMs: 1_000 },
      camera: { source: 'file', path: join(root, 'missing.mkv'), restartMinMs: 100, restartMaxMs: 500 },
      gps: { source: 'serial', port: join(root, 'ttyMissing'), reopenMinMs: 100, reopenMaxMs: 500 },
    });
    const agent = createAgent(config, { logger });
    cleanups.push(() => agent.stop());
    await agent.start();
    agent.outbox.append(sampleEvents(20));
    agent.uplink.notify();
    await waitFor('outbox drained', () => agent.outbox.stats().depth === 0);
    expect(hub.storedCount).toBe(20);
    await waitFor('a status naming both faults', () => statuses.some((s) => s.sensors?.camera === 'fault' && s.sensors?.gps === 'fault'), 10_000);
    const status = statuses.findLast((s) => s.sensors?.camera === 'fault')!;
    expect(status.sensors?.detector).toBe('ok');
    // The detector is loaded but has seen no frame: nothing measured yet (fps 0 once the window has two samples).
    expect(status.detector?.p95Ms).toBeNull();
    expect([null, 0]).toContain(status.detector?.fps);
    expect(status.faults?.find((f) => f.startsWith('camera:'))).toMatch(/missing\.mkv.*No such file or directory/);
    expect(status.faults?.find((f) => f.startsWith('gps:'))).toMatch(/ttyMissing/);
    await agent.stop();
  });
});
