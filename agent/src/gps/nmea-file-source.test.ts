import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Fix } from './fix.js';
import { NmeaFileSource } from './nmea-file-source.js';
import { corpusDir, parseLog } from './testing/gpsd-chk.js';
import { sampleDrive, sampleEpoch } from './testing/nmea-samples.js';

const silent = pino({ level: 'silent' });
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'roadwatch-nmea-file-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function collect(source: NmeaFileSource): Array<{ fix: Fix; at: number }> {
  const out: Array<{ fix: Fix; at: number }> = [];
  source.onFix((fix) => out.push({ fix, at: performance.now() }));
  return out;
}

describe('NmeaFileSource', () => {
  it('replays a recorded log as fast as possible: the same fixes as parsing it whole', async () => {
    const file = join(corpusDir(), 'ublox-zed-f9p-nmea.log');
    const source = new NmeaFileSource({ file, logger: silent });
    const got = collect(source);
    await source.start();
    const stats = await source.finished();
    expect(got.map((g) => g.fix)).toEqual(parseLog(file).fixes);
    expect(stats).toMatchObject({ sentences: 1015, checksumErrors: 0, fixes: 29 });
    expect(source.status().state).toBe('ok');
  });

  it('replays with the timing of the sentence times (here 10× faster), shortening long gaps', async () => {
    const file = join(dir, 'drive.nmea');
    const t0 = new Date('2026-11-22T23:59:58.000Z');
    // 4 epochs 1 s apart across midnight, then a 10-minute gap, then one more epoch
    writeFileSync(file, `# a comment\n${sampleDrive(t0, 4)}${sampleEpoch({ at: new Date(t0.getTime() + 600_000), lat: 52.4, lon: 4.9 })}`);
    const source = new NmeaFileSource({ file, logger: silent, pace: 'realtime', speed: 10, maxGapMs: 2000 });
    const got = collect(source);
    const started = performance.now();
    await source.start();
    await source.finished();
    const elapsed = performance.now() - started;
    expect(got.map((g) => g.fix.time)).toEqual([
      '2026-11-22T23:59:58.000Z',
      '2026-11-22T23:59:59.000Z',
      '2026-11-23T00:00:00.000Z',
      '2026-11-23T00:00:01.000Z',
      '2026-11-23T00:09:58.000Z',
    ]);
    // 3 × 1 s + the 10 min gap cut to 2 s = 5 s of log time at 10× ≈ 500 ms
    expect(elapsed).toBeGreaterThan(450);
    expect(elapsed).toBeLessThan(2000);
    // The first epoch is emitted when the second starts (its end is learned then); from the
    // second on, each fix comes at the end of its epoch, 1 s of log time (100 ms) apart.
    const gaps = got.slice(1).map((g, i) => g.at - (got[i] as { at: number }).at);
    for (const gap of gaps.slice(1, 3)) expect(gap).toBeGreaterThan(70);
    expect(got.every((g) => typeof g.fix.receivedAtMono === 'number')).toBe(true);
  });

  it('stops promptly in the middle of a paced replay', async () => {
    const file = join(dir, 'long.nmea');
    writeFileSync(file, sampleDrive(new Date('2026-11-22T08:00:00Z'), 60));
    const source = new NmeaFileSource({ file, logger: silent, pace: 'realtime' });
    const got = collect(source);
    await source.start();
    const t = performance.now();
    await new Promise((r) => setTimeout(r, 50));
    await source.stop();
    expect(performance.now() - t).toBeLessThan(500);
    expect(got.length).toBeLessThan(3);
  });

  it('a missing file is a fault naming the path, not a crash', async () => {
    const source = new NmeaFileSource({ file: join(dir, 'nope.nmea'), logger: silent });
    await source.start();
    expect(source.status()).toMatchObject({ state: 'fault', message: `NMEA log ${join(dir, 'nope.nmea')} not found — check the path` });
  });
});
