import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { OutboxStats } from '../outbox/outbox.js';
import { systemdNotifySender, watchdogTimeoutMs } from './notify.js';
import { outboxHealth, SystemdNotifier, type HealthCheck } from './watchdog.js';

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
