import { mkdtempSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '@roadwatch/shared';
import { SqliteOutbox } from '../outbox/sqlite-outbox.js';
import { sampleEvent } from '../outbox/testing/sample-events.js';
import { importJsonl } from './import-jsonl.js';

const logger = pino({ level: 'silent' });
let dir: string;
let outbox: SqliteOutbox;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'roadwatch-replay-'));
  outbox = new SqliteOutbox({ path: join(dir, 'outbox.sqlite'), logger, maxBytes: 1e12, maxAgeMs: 1e12 });
});

afterEach(() => {
  outbox.close();
  rmSync(dir, { recursive: true, force: true });
});

function writeLines(lines: string[]): string {
  const file = join(dir, 'events.jsonl');
  writeFileSync(file, lines.join('\n'));
  return file;
}

describe('importJsonl', () => {
  it('imports good lines in order, reports bad ones by line number, ignores empty lines', async () => {
    const good = (i: number) => JSON.stringify(sampleEvent(i));
    const file = writeLines([
      `\uFEFF${good(0)}`, // 1: byte order mark from a Windows editor
      good(1), // 2
      '', // 3
      '   ', // 4
      good(2), // 5
      JSON.stringify(sampleEvent(3, { lat: 95 })), // 6
      JSON.stringify(sampleEvent(4, { lat: -91, confidence: 2 })), // 7
      '{"ts": "2026-11-22T08:00:58.120Z", "clock": ', // 8
      JSON.stringify({ ...sampleEvent(5), eventId: '0190c1c2-7b5e-7000-8000-000000000000', seq: 3 }), // 9
      '[1,2]', // 10
      JSON.stringify({ ...sampleEvent(6), colour: 'red' }), // 11
      `${good(7)}\r`, // 12: CRLF line ending
    ]);
    const result = await importJsonl({ file, outbox, logger, chunkSize: 2 });

    expect(result.imported).toBe(4);
    expect(result.skipped).toBe(6);
    expect(result.errors.map((e) => e.line)).toEqual([6, 7, 8, 9, 10, 11]);
    const [lat, two, json, assigned, array, extra] = result.errors.map((e) => e.message);
    expect(lat).toBe('lat: lat out of range (−90…90)');
    expect(two).toMatch(/^lat: lat out of range.*; confidence: /);
    expect(json).toMatch(/^not valid JSON: /);
    expect(assigned).toMatch(/^eventId and seq are assigned by the agent — remove them/);
    expect(array).toBe('expected a JSON object (one event per line), got an array');
    expect(extra).toMatch(/colour/);

    const rows = outbox.readAfter(0, 100, 1e9);
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(rows.map((r) => (JSON.parse(r.payload) as { ts: string }).ts)).toEqual([0, 1, 2, 7].map((i) => sampleEvent(i).ts));
  });

  it('streams a large file in chunks (one transaction each)', async () => {
    const file = join(dir, 'big.jsonl');
    const out = createWriteStream(file);
    for (let i = 0; i < 25_000; i++) out.write(`${JSON.stringify(sampleEvent(i))}\n`);
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));

    const appends: number[] = [];
    const counting = { append: (events: Parameters<SqliteOutbox['append']>[0]) => (appends.push(events.length), outbox.append(events)) };
    const result = await importJsonl({ file, outbox: counting, logger });
    expect(result).toEqual({ imported: 25_000, skipped: 0, errors: [] });
    expect(appends).toEqual([...Array<number>(25).fill(1000)]);
    expect(outbox.stats().depth).toBe(25_000);
  });

  it('counts every bad line but keeps at most maxErrors of them', async () => {
    const file = writeLines(Array.from({ length: 50 }, () => 'nope'));
    const result = await importJsonl({ file, outbox, logger, maxErrors: 10 });
    expect(result.skipped).toBe(50);
    expect(result.errors).toHaveLength(10);
    expect(result.imported).toBe(0);
  });

  it('names the fix for a missing file or a directory', async () => {
    await expect(importJsonl({ file: join(dir, 'missing.jsonl'), outbox, logger })).rejects.toThrow(UserError);
    await expect(importJsonl({ file: join(dir, 'missing.jsonl'), outbox, logger })).rejects.toThrow(/missing\.jsonl: not found — pass the path of an existing JSONL file/);
    await expect(importJsonl({ file: dir, outbox, logger })).rejects.toThrow(/is a directory/);
  });

  it('imports nothing from an empty file', async () => {
    const file = writeLines([]);
    expect(await importJsonl({ file, outbox, logger })).toEqual({ imported: 0, skipped: 0, errors: [] });
  });
});
