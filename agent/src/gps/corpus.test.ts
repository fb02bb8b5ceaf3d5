import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NmeaReader } from './nmea-reader.js';
import { compareEpochs, corpusDir, echoedSentences, isCarryOver, parseLog, readTpvs } from './testing/gpsd-chk.js';

/**
 * Our fixes against gpsd's, on 27 real receiver recordings (../shared/corpus/nmea, gpsd's own
 * regression logs with gpsd's output in the `.chk` beside each; see that folder's README).
 *
 * Method (details in testing/gpsd-chk.ts, `compareEpochs`):
 * - each log is parsed whole, as fast as possible, with `#` header lines skipped;
 * - gpsd's answer for an epoch is its last TPV with that epoch's `time`; it is matched to our fix
 *   with the same UTC time and must agree on mode, and with mode ≥ 2 on lat and lon to 1e-6°;
 *   every such epoch must have a fix from us;
 * - epochs where gpsd had no date (no valid RMC/ZDA yet: its TPVs have no `time`) are matched by
 *   the time of day of the sentences gpsd echoed just before the report, and compared the same way;
 * - not compared: gpsd's "carry-over" TPVs — a sentence of the next epoch that sets no time (an RMC
 *   with status V, a ZDA running ahead) makes gpsd report under the previous time; and untimed TPVs
 *   sent before the log's first timed sentence (nothing to match them on).
 * All sentence types gpsd uses in these logs for mode and position are ones we support (GGA, RMC,
 * GLL, GNS, GSA); gpsd also reads $PGRMZ altitude (Garmin) and others, which never change the
 * compared fields here, so no log is excluded. The exclusions are single epochs, listed below.
 */

/** Epochs where we differ from gpsd on purpose. Each must still differ (else delete it here). */
const KNOWN_DIFFERENCES: ReadonlyArray<{ log: string; key: string; reason: string }> = [
  {
    log: 'gp-320fw-2019-04-07-coldboot',
    key: '2019-04-07T00:04:27.000Z',
    reason:
      'the GPS week-rollover bug switches the date to 1999-08-22 with the ZDA in the middle of this epoch; gpsd stamps the GGA that comes first with the date it had before (2019-04-07), we stamp the whole epoch with its own ZDA date, so our fix is 1999-08-22T00:04:27 and no fix of ours has gpsd\'s time (gpsd agrees from the next epoch on)',
  },
];

/** Logs where our count of good sentences differs from the sentences gpsd echoed as accepted. */
const SENTENCE_COUNT_DIFFERENCES: Readonly<Record<string, { ours: number; gpsd: number; reason: string }>> = {
  'gp-320fw-2019-04-07-coldboot': {
    ours: 93,
    gpsd: 91,
    reason: 'two complete GSAs with a valid checksum are followed on the same line by the next `$GPRMC` without CR/LF: we keep them (the checksum proves them intact), gpsd\'s lexer drops a sentence not ended by CR/LF',
  },
};

const EXPECTED_LOGS = 27;
const dir = corpusDir();
const logs = readdirSync(dir)
  .filter((name) => name.endsWith('.log'))
  .map((name) => name.slice(0, -'.log'.length))
  .sort();
const summary: string[] = [];

afterAll(() => {
  console.info(`gpsd agreement per log (compared epochs: by UTC time + by time of day where gpsd had no date)\n${summary.join('\n')}`);
});

describe('NMEA corpus (gpsd regression logs)', () => {
  it(`holds all ${EXPECTED_LOGS} logs, each with gpsd's .chk`, () => {
    expect(logs).toHaveLength(EXPECTED_LOGS);
    for (const log of logs) expect(() => readFileSync(join(dir, `${log}.chk`))).not.toThrow();
  });

  it.each(logs)('%s: parses without a crash, byte by byte as well as whole', (log) => {
    const bytes = readFileSync(join(dir, `${log}.log`));
    const whole = parseLog(join(dir, `${log}.log`));
    const reader = new NmeaReader({ commentPrefix: '#' });
    const dribbled = [];
    for (let i = 0; i < bytes.length; i += 7) dribbled.push(...reader.push(bytes.subarray(i, i + 7)));
    dribbled.push(...reader.end());
    expect(dribbled).toEqual(whole.fixes);
    expect(reader.stats()).toEqual(whole.stats);
    expect(whole.fixes.length).toBeGreaterThan(0);
  });

  it.each(logs)('%s: accepts the same sentences as gpsd', (log) => {
    const { stats } = parseLog(join(dir, `${log}.log`));
    const gpsd = echoedSentences(join(dir, `${log}.chk`));
    const known = SENTENCE_COUNT_DIFFERENCES[log];
    expect({ ours: stats.sentences, gpsd }).toEqual(known ? { ours: known.ours, gpsd: known.gpsd } : { ours: gpsd, gpsd });
  });

  it.each(logs)('%s: fixes agree with gpsd (time, mode, lat/lon to 1e-6°)', (log) => {
    const { fixes } = parseLog(join(dir, `${log}.log`));
    const tpvs = readTpvs(join(dir, `${log}.chk`));
    const compared = compareEpochs(tpvs, fixes);
    const known = KNOWN_DIFFERENCES.filter((k) => k.log === log);
    const failing = compared.filter((c) => c.problems.length > 0);
    const unexpected = failing.filter((c) => !known.some((k) => k.key === c.key)).map((c) => `${c.by} ${c.key}: ${c.problems.join('; ')}`);
    const stale = known.filter((k) => !failing.some((c) => c.key === k.key)).map((k) => `${k.key} now agrees: remove it from KNOWN_DIFFERENCES`);

    const byTime = compared.filter((c) => c.by === 'time');
    const byTod = compared.filter((c) => c.by === 'time-of-day');
    const ok = (list: typeof compared) => list.filter((c) => c.problems.length === 0).length;
    const skipped = tpvs.filter(isCarryOver).length;
    const unmatched = tpvs.filter((t) => t.time === undefined && t.epochTod === undefined).length;
    summary.push(
      `  ${log.padEnd(30)} ${String(ok(byTime)).padStart(3)}/${String(byTime.length).padEnd(3)} by time, ${ok(byTod)}/${byTod.length} by time of day; ` +
        `excluded ${known.length}; not compared: ${skipped} carry-over, ${unmatched} before the first time`,
    );

    expect(compared.length).toBeGreaterThan(0);
    expect(unexpected).toEqual([]);
    expect(stale).toEqual([]);
  });
});
