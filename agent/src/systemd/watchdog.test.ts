import { tmpdir } from 'node:os';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { agentHealth } from '../cli/run.js';
import type { OutboxStats } from '../outbox/outbox.js';
import { systemdNotifySender, watchdogTimeoutMs } from './notify.js';
import { DetectStallWatch, outboxHealth, serviceHealth, SystemdNotifier, type DetectProgress, type HealthCheck } from './watchdog.js';

const logger = pino({ level: 'silent' });
const stats = (depth: number): OutboxStats => ({ depth, bytes: 0, oldestCreatedAt: null, newestSeq: null, lastAckAt: null, evictedTotal: 0 });

describe('sd_notify through systemd-notify', () => {
  it('is off without $NOTIFY_SOCKET, and names the agent as sender with it', async () => {
    expect(systemdNotifySender({})).toBeNull();
    const calls: Array<[string, readonly string[]]> = [];
    const send = systemdNotifySender({ NOTIFY_SOCKET: '/run/systemd/notify' }, async (file, args) => void calls.push([file, args]), 4242)!;
    await send(['READY=1', 'STATUS=running']);
    expect(calls).toEqual([['systemd-notify', ['--pid=4242', 'READY=1', 'STATUS=running']]]);
  });

  it('reads WatchdogSec from $WATCHDOG_USEC, unless $WATCHDOG_PID names another process', () => {
    expect(watchdogTimeoutMs({ WATCHDOG_USEC: '30000000' }, 7)).toBe(30_000);
    expect(watchdogTimeoutMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7' }, 7)).toBe(30_000);
    expect(watchdogTimeoutMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '8' }, 7)).toBeNull();
    expect(watchdogTimeoutMs({}, 7)).toBeNull();
  });
});

describe('SystemdNotifier', () => {
  it('pings only while healthy, says why when not, and says STOPPING on shutdown', async () => {
    const sent: string[][] = [];
    let health: ReturnType<HealthCheck> = { ok: true, status: 'running; outbox: 0 events waiting' };
    const notifier = new SystemdNotifier({ send: async (a) => void sent.push([...a]), watchdogMs: 30_000, health: () => health, logger });
    expect(notifier.intervalMs).toBe(15_000);
    await notifier.ready();
    await notifier.tick();
    health = { ok: false, reason: 'data dir /var/lib/roadwatch is not writable (EROFS)' };
    await notifier.tick();
    health = { ok: true, status: 'running; outbox: 3 events waiting' };
    await notifier.tick();
    await notifier.stopping();
    expect(sent).toEqual([
      ['READY=1', 'STATUS=running; outbox: 0 events waiting'],
      ['WATCHDOG=1', 'STATUS=running; outbox: 0 events waiting'],
      ['STATUS=unhealthy: data dir /var/lib/roadwatch is not writable (EROFS)'],
      ['WATCHDOG=1', 'STATUS=running; outbox: 3 events waiting'],
      ['STOPPING=1', 'STATUS=stopping'],
    ]);
  });

  it('keeps running when systemd-notify fails', async () => {
    const notifier = new SystemdNotifier({ send: () => Promise.reject(new Error('spawn systemd-notify ENOENT')), watchdogMs: null, health: () => ({ ok: true, status: 'running' }), logger });
    await expect(notifier.ready()).resolves.toBeUndefined();
    await expect(notifier.stopping()).resolves.toBeUndefined();
  });
});

describe('outboxHealth', () => {
  it('is healthy while the outbox answers and the data dir is writable', () => {
    expect(outboxHealth({ stats: () => stats(1) }, '/data', () => {})()).toEqual({ ok: true, status: 'running; outbox: 1 event waiting' });
    expect(outboxHealth({ stats: () => { throw new Error('database disk image is malformed'); } }, '/data', () => {})()).toEqual({
      ok: false,
      reason: 'the outbox does not answer: database disk image is malformed',
    });
    const readOnly = () => {
      throw Object.assign(new Error('read-only file system'), { code: 'EROFS' });
    };
    expect(outboxHealth({ stats: () => stats(0) }, '/data', readOnly)()).toEqual({ ok: false, reason: 'data dir /data is not writable (EROFS)' });
  });
});

describe('DetectStallWatch and serviceHealth: pings stop while the detector hangs', () => {
  it('a detector holding frames without finishing one for the stall time is unhealthy; progress or an empty stage clears it', () => {
    let now = 0;
    let progress: DetectProgress | null = { detected: 10, failed: 0, inFlight: 2 };
    const watch = new DetectStallWatch(() => progress, () => now, 60_000);
    const health = serviceHealth(outboxHealth({ stats: () => stats(0) }, '/data', () => {}), watch);
    expect(health()).toEqual({ ok: true, status: 'running; outbox: 0 events waiting; pipeline: 10 frames detected' });
    now = 59_000;
    expect(health().ok).toBe(true);
    now = 61_000;
    expect(health()).toEqual({ ok: false, reason: 'the detector has held 2 frames for 61 s without finishing one (inference hangs)' });
    // One frame comes out: healthy again, and the stall time starts over.
    progress = { detected: 11, failed: 0, inFlight: 2 };
    expect(health().ok).toBe(true);
    now = 100_000;
    expect(health().ok).toBe(true);
    // A failed frame is progress too.
    now = 130_000;
    progress = { detected: 11, failed: 1, inFlight: 1 };
    expect(health().ok).toBe(true);
    // Nothing in flight (the camera sends nothing): not a stall, however long.
    progress = { detected: 11, failed: 1, inFlight: 0 };
    now = 1_000_000;
    expect(health().ok).toBe(true);
    // No pipeline (no camera, or the model could not be loaded): only the outbox counts.
    progress = null;
    expect(health()).toEqual({ ok: true, status: 'running; outbox: 0 events waiting' });
  });

  it('an outbox fault comes first; without a pipeline the outbox check is the whole health', () => {
    const broken = outboxHealth({ stats: () => { throw new Error('disk I/O error'); } }, '/data', () => {});
    const watch = new DetectStallWatch(() => ({ detected: 0, failed: 0, inFlight: 1 }), () => 0);
    expect(serviceHealth(broken, watch)()).toEqual({ ok: false, reason: 'the outbox does not answer: disk I/O error' });
    expect(serviceHealth(outboxHealth({ stats: () => stats(2) }, '/data', () => {}), null)()).toEqual({ ok: true, status: 'running; outbox: 2 events waiting' });
  });

  it('drives the notifier: WATCHDOG=1 while frames move, STATUS=unhealthy (no ping) once the detector hangs', async () => {
    let now = 0;
    let detected = 0;
    const watch = new DetectStallWatch(() => ({ detected, failed: 0, inFlight: 1 }), () => now, 30_000);
    const sent: string[][] = [];
    const notifier = new SystemdNotifier({ send: async (a) => void sent.push([...a]), watchdogMs: 30_000, health: serviceHealth(outboxHealth({ stats: () => stats(0) }, '/data', () => {}), watch), logger, now: () => now });
    await notifier.ready();
    for (let i = 0; i < 4; i++) {
      now += 15_000;
      if (i < 2) detected += 75;
      await notifier.tick();
    }
    expect(sent.map((a) => a[0])).toEqual(['READY=1', 'WATCHDOG=1', 'WATCHDOG=1', 'WATCHDOG=1', 'STATUS=unhealthy: the detector has held 1 frame for 30 s without finishing one (inference hangs)']);
  });
});

describe('agentHealth (what `roadwatch run` hands the watchdog)', () => {
  it('reads the running agent’s outbox and, while its camera pipeline runs, its detector', () => {
    let now = 0;
    let live: { stats(): { detect: DetectProgress } } | null = { stats: () => ({ detect: { detected: 5, failed: 0, inFlight: 2 } }) };
    const health = agentHealth({ start: async () => {}, stop: async () => {}, outbox: { stats: () => stats(1) }, sensing: () => live }, tmpdir(), () => now, 10_000);
    expect(health()).toEqual({ ok: true, status: 'running; outbox: 1 event waiting; pipeline: 5 frames detected' });
    now = 10_000;
    expect(health()).toMatchObject({ ok: false, reason: expect.stringContaining('inference hangs') });
    live = null; // the pipeline stopped (service shutting down): only the outbox counts
    expect(health()).toEqual({ ok: true, status: 'running; outbox: 1 event waiting' });
    expect(agentHealth({ start: async () => {}, stop: async () => {} }, tmpdir())()).toEqual({ ok: true, status: 'running' });
  });
});
