import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteOutbox } from '../outbox/sqlite-outbox.js';
import { sampleEvents } from '../outbox/testing/sample-events.js';
import { memoryLogger } from '../uplink/testing/harness.js';
import { runCli } from './program.js';
import { fakeIo } from './testing/fake-io.js';

const NOW = Date.UTC(2026, 10, 22, 9, 0, 0);
let dir: string;
let dataDir: string;
const io = () => fakeIo({ ROADWATCH_DATA: dataDir }, () => NOW);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'roadwatch-queue-'));
  dataDir = join(dir, 'data');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function fill(count: number): void {
  const outbox = SqliteOutbox.open({ path: join(dataDir, 'outbox.sqlite'), logger: memoryLogger('silent').logger, maxBytes: 1024 ** 3, maxAgeMs: 1e12, clock: () => NOW - 90_000 });
  outbox.append(sampleEvents(count));
  outbox.close();
}

describe('roadwatch queue list', () => {
  it('lists the oldest unsynced events (the next to be sent), --limit of them', async () => {
    fill(30);
    const human = io();
    expect(await runCli(['queue', 'list', '--limit', '3'], human)).toBe(0);
    const lines = human.out().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^seq +event id +time \(clock\) +class +conf +lat +lon +queued$/);
    expect(lines[1]).toMatch(/^1 +[0-9a-f-]{36} +2026-11-22T08:00:00\.000Z \(gps\) +pothole +0\.50 +52\.370000 +4\.895000 +1m 30s ago$/);
    expect(lines).toHaveLength(5);
    expect(lines[4]).toBe('… and 27 more (oldest first; --limit N shows more)');

    const json = io();
    expect(await runCli(['queue', 'list', '--json'], json)).toBe(0);
    const rows = json.out().trim().split('\n').map((l) => JSON.parse(l) as { seq: number; eventId: string; queuedAt: string; bytes: number; event: { eventId: string; seq: number } });
    expect(rows).toHaveLength(20);
    expect(rows[0]).toMatchObject({ seq: 1, queuedAt: new Date(NOW - 90_000).toISOString() });
    expect(rows[0]!.event).toMatchObject({ eventId: rows[0]!.eventId, seq: 1, class: 'pothole' });
  });

  it('an outbox never created or emptied says so, without creating it', async () => {
    const none = io();
    expect(await runCli(['queue', 'list'], none)).toBe(0);
    expect(none.out()).toBe(`${join(dataDir, 'outbox.sqlite')}: not created yet (nothing queued)\n`);
    expect(existsSync(dataDir)).toBe(false);
    fill(0);
    const empty = io();
    expect(await runCli(['queue', 'list'], empty)).toBe(0);
    expect(empty.out()).toBe('the outbox is empty: everything reached the hub\n');
  });
});

describe('roadwatch queue export', () => {
  it('writes every unsynced event as wire JSON lines (with eventId and seq); they stay queued', async () => {
    fill(1234);
    const file = join(dir, 'out.jsonl');
    const run = io();
    expect(await runCli(['queue', 'export', file], run)).toBe(0);
    expect(run.out()).toMatch(/^exported 1,234 events \([\d.]+ KiB\) to .*out\.jsonl; they stay in the outbox and still sync\n$/);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { seq: number; eventId: string });
    expect(lines).toHaveLength(1234);
    expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: 1234 }, (_, i) => i + 1));
    expect(new Set(lines.map((l) => l.eventId)).size).toBe(1234);

    const stats = io();
    expect(await runCli(['queue', '--json'], stats)).toBe(0);
    expect(JSON.parse(stats.out())).toMatchObject({ depth: 1234 });

    const again = io();
    expect(await runCli(['queue', 'export', file], again)).toBe(2);
    expect(again.err()).toBe(`roadwatch: ${file} exists — pass --force to overwrite it, or name another file\n`);
    const forced = io();
    expect(await runCli(['queue', 'export', file, '--force', '--json'], forced)).toBe(0);
    expect(JSON.parse(forced.out())).toMatchObject({ file, events: 1234 });
  });
});
