import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteOutbox } from '../outbox/sqlite-outbox.js';
import { sampleEvent } from '../outbox/testing/sample-events.js';
import { OutboxWriter } from './outbox-writer.js';

const silent = pino({ level: 'silent' });
const dirs: string[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function outbox(): SqliteOutbox {
  const dir = mkdtempSync(join(tmpdir(), 'rw-writer-'));
  dirs.push(dir);
  return new SqliteOutbox({ path: join(dir, 'outbox.db'), logger: silent, maxBytes: 64 * 1024 * 1024, maxAgeMs: 86_400_000 });
}

describe('OutboxWriter', () => {
  it('writes events and wakes the uplink', () => {
    const box = outbox();
    let notified = 0;
    const writer = new OutboxWriter(box, () => notified++, silent);
    writer.write([sampleEvent(1), sampleEvent(2)]);
    expect(box.stats().depth).toBe(2);
    expect(notified).toBe(1);
    box.close();
  });

  it('holds events while the outbox refuses writes and writes them when it recovers', () => {
    vi.useFakeTimers();
    const box = outbox();
    const append = box.append.bind(box);
    let failing = true;
    box.append = (events) => {
      if (failing) throw new Error('SQLITE_FULL: database or disk is full');
      return append(events);
    };
    const writer = new OutboxWriter(box, () => {}, silent);
    writer.write([sampleEvent(1)]);
    writer.write([sampleEvent(2)]);
    expect(writer.stats()).toMatchObject({ held: 2, written: 0, lastError: 'SQLITE_FULL: database or disk is full' });
    failing = false;
    vi.advanceTimersByTime(5_000);
    expect(writer.stats()).toMatchObject({ held: 0, written: 2, lastError: null });
    expect(box.stats().depth).toBe(2);
    box.close();
  });

  it('drops a malformed event without holding up the good ones', () => {
    const box = outbox();
    const writer = new OutboxWriter(box, () => {}, silent);
    writer.write([sampleEvent(1), { ...sampleEvent(2), lat: 95 }, sampleEvent(3)]);
    expect(box.stats().depth).toBe(2);
    expect(writer.stats()).toMatchObject({ invalid: 1, held: 0 });
    box.close();
  });
});
