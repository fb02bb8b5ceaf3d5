import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { failOnUnhandledErrors, fuzzParams, fuzzTimeout } from '../../../test/support/fuzz.js';
import type { Fix } from './fix.js';
import { decodeSentence, isSupportedType } from './nmea-decode.js';
import { NmeaFileSource } from './nmea-file-source.js';
import { NmeaReader } from './nmea-reader.js';
import { frameLine, nmeaChecksum, withChecksum } from './nmea-sentence.js';
import { sampleEpoch } from './testing/nmea-samples.js';

/**
 * Fuzzing the GPS reader (docs/TESTING.md "Fuzzing"): near-valid NMEA streams — receiver epochs from
 * the sample generator, mutated field by field with the checksum fixed up (so the bad values reach
 * the decoders) or left stale, truncated, run together, sprinkled with junk bytes, unicode and huge
 * numbers — fed to NmeaReader in random chunks, as the serial port delivers them.
 *
 * Properties: the reader never throws; every line is accounted for in the counters; every fix it
 * emits is well formed (coordinates in range, lat/lon exactly when mode ≥ 2, finite numbers, a real
 * ISO time); the fixes and counters do not depend on how the bytes were chunked; and a recorded log
 * replayed by NmeaFileSource (fast or paced) finishes with the reader's fixes and counts.
 */

failOnUnhandledErrors();

/** Other sentence types a receiver sends (and ones we only count), with valid checksums. */
const OTHER_SENTENCES = [
  'GPGSV,3,1,11,03,03,111,00,04,15,270,00,06,01,010,00,13,06,292,00',
  'GAGSV,3,1,09,02,00,179,,04,09,321,,07,11,134,11,11,10,227,,7',
  'GPGLL,4916.45,N,12311.12,W,225444,A,A',
  'GPZDA,160012.71,11,03,2004,-1,00',
  'GNGNS,014035.00,4332.69262,S,17235.48549,E,RR,13,0.9,25.63,11.24,,',
  'GNGSA,A,3,80,71,73,79,69,,,,,,,,1.83,1.09,1.47,2',
  'GPTXT,01,01,02,ANTSTATUS=OK',
  'PGRMZ,246,f,3',
  'PUBX,00,081350.00,4717.113210,N,00833.915187,E',
];

/** Values that have broken parsers: empty, signs, exponents, NaN-ish words, huge and tiny numbers, unicode digits. */
const NASTY_FIELD = fc.constantFrom(
  '',
  ' ',
  '-',
  '+',
  '.',
  '-0',
  '+5',
  ' 5 ',
  '0x1F',
  '1e308',
  '1e-320',
  '-1e999',
  'NaN',
  'Infinity',
  '-Infinity',
  'undefined',
  'null',
  '99999999999999999999999',
  '9'.repeat(40),
  '0.' + '0'.repeat(60) + '1',
  '36000.0000',
  '18000.0000',
  '9000.0000',
  '5960.0000',
  '235960',
  '999999',
  '246060.99',
  '290280',
  '310399',
  '000000',
  '٣٤٥',
  '１２',
  'N',
  'S',
  'E',
  'W',
  'A',
  'V',
  'Z',
  '*',
  '\u00e9',
);

const FIELD = fc.oneof(
  { weight: 3, arbitrary: NASTY_FIELD },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  { weight: 1, arbitrary: fc.double().map(String) },
  { weight: 1, arbitrary: fc.integer().map(String) },
);

/** One receiver epoch (GGA, GSA, RMC, VTG), any place on earth, any time GPS can say. */
const EPOCH = fc
  .record({
    at: fc.date({ min: new Date('1980-01-06T00:00:00Z'), max: new Date('2199-12-31T23:59:59Z'), noInvalidDate: true }),
    lat: fc.double({ min: -89.9999, max: 89.9999, noNaN: true }),
    lon: fc.double({ min: -179.9999, max: 179.9999, noNaN: true }),
    fix: fc.boolean(),
    altM: fc.double({ min: -500, max: 9000, noNaN: true }),
    sats: fc.integer({ min: 0, max: 40 }),
    speedKn: fc.double({ min: 0, max: 200, noNaN: true }),
    courseDeg: fc.double({ min: 0, max: 359.99, noNaN: true }),
    talker: fc.constantFrom('GP', 'GN', 'GL', 'GA', 'GB', 'BD', 'QZ'),
  })
  .map((e) => sampleEpoch(e).split('\r\n').filter((l) => l !== ''));

const body = (line: string) => line.slice(1, line.lastIndexOf('*'));

/** A mutation of one valid `$…*hh` line. */
type Mutation = (line: string) => fc.Arbitrary<string>;

const MUTATIONS: Mutation[] = [
  // Valid as it is.
  (line) => fc.constant(line),
  // A field replaced, checksum fixed up: the bad value reaches the decoder.
  (line) =>
    fc.tuple(fc.nat(), FIELD).map(([i, value]) => {
      const fields = body(line).split(',');
      fields[1 + (i % Math.max(1, fields.length - 1))] = value;
      return withChecksum(fields.join(','));
    }),
  // Fields added or dropped, checksum fixed up.
  (line) =>
    fc.tuple(fc.integer({ min: -20, max: 20 }), FIELD).map(([n, value]) => {
      const fields = body(line).split(',');
      if (n < 0) fields.splice(Math.max(1, fields.length + n));
      else for (let i = 0; i < n; i++) fields.push(value);
      return withChecksum(fields.join(','));
    }),
  // A character flipped, inserted or deleted, checksum left stale (or by chance right).
  (line) =>
    fc.tuple(fc.nat(), fc.string({ unit: 'binary', minLength: 0, maxLength: 2 }), fc.nat(2)).map(([i, s, drop]) => {
      const at = i % line.length;
      return line.slice(0, at) + s + line.slice(at + drop);
    }),
  // Truncated (a receiver unplugged mid-line, a lost buffer).
  (line) => fc.nat().map((i) => line.slice(0, i % (line.length + 1))),
  // The checksum in lower case, one digit, three digits, missing, or of something else.
  (line) => fc.constantFrom(line.toLowerCase(), line.slice(0, -1), `${line}0`, line.slice(0, line.lastIndexOf('*')), `${line.slice(0, -2)}${nmeaChecksum('X')}`),
  // Junk before, after or as a doubled `$`.
  (line) => fc.tuple(fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom('', '$', '\u0000', '\u001b[H', ' ')).map(([junk, tail]) => `${junk}${line}${tail}`),
  // A field full of unicode or a huge number, checksum over the UTF-16 text.
  (line) =>
    fc.tuple(fc.nat(), fc.oneof(fc.string({ unit: 'grapheme', maxLength: 10 }), fc.bigInt({ min: -(10n ** 60n), max: 10n ** 60n }).map(String))).map(([i, value]) => {
      const fields = body(line).split(',');
      fields[1 + (i % Math.max(1, fields.length - 1))] = value;
      return withChecksum(fields.join(','));
    }),
  // An overlong line.
  (line) => fc.integer({ min: 2, max: 6 }).map((n) => line.repeat(n)),
];

const mutate = (line: string): fc.Arbitrary<string> => fc.constantFrom(...MUTATIONS).chain((m) => m(line));

/** One stream: epochs and other sentences, each line maybe mutated, with random line endings and noise. */
const STREAM = fc
  .array(fc.oneof({ weight: 3, arbitrary: EPOCH }, { weight: 1, arbitrary: fc.constantFrom(...OTHER_SENTENCES).map((s) => [withChecksum(s)]) }), { minLength: 1, maxLength: 8 })
  .map((groups) => groups.flat())
  .chain((lines) =>
    fc.tuple(
      ...lines.map((line) =>
        fc.tuple(
          fc.oneof({ weight: 2, arbitrary: fc.constant(line) }, { weight: 1, arbitrary: mutate(line) }),
          fc.constantFrom('\r\n', '\r\n', '\n', '\r', '\r\r\n', '', ' '),
        ),
      ),
      fc.oneof({ weight: 4, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) }),
    ),
  )
  .map((parts) => {
    const noise = parts.pop() as string;
    return (parts as Array<[string, string]>).map(([l, end]) => l + end).join('') + noise;
  })
  // Bytes as a serial port delivers them: the text's code points as UTF-8 (non-ASCII bytes ≥ 0x80 reach the reader).
  .map((text) => Buffer.from(text, 'utf8'));

/** Split points for a buffer of any length. */
const CUTS = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });

function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let start = 0;
  for (const cut of at) {
    out.push(bytes.subarray(start, cut));
    start = cut;
  }
  out.push(bytes.subarray(start));
  return out;
}

function read(chunks: Buffer[], maxLine?: number) {
  const reader = new NmeaReader(maxLine === undefined ? {} : { maxLine });
  const fixes: Fix[] = [];
  chunks.forEach((c, i) => fixes.push(...reader.push(c, i)));
  fixes.push(...reader.end());
  return { fixes, stats: reader.stats() };
}

function expectWellFormed(fix: Fix): void {
  expect([1, 2, 3]).toContain(fix.mode);
  expect(fix.source).toBe('nmea');
  const positioned = fix.mode >= 2;
  expect(fix.lat !== null && fix.lon !== null).toBe(positioned);
  if (fix.lat !== null) expect(Math.abs(fix.lat)).toBeLessThanOrEqual(90);
  if (fix.lon !== null) expect(Math.abs(fix.lon)).toBeLessThanOrEqual(180);
  for (const v of [fix.lat, fix.lon, fix.altM, fix.sats, fix.hdop, fix.speedKmh, fix.courseDeg]) {
    if (v !== null) expect(Number.isFinite(v), `finite number in ${JSON.stringify(fix)}`).toBe(true);
  }
  if (fix.hdop !== null) expect(fix.hdop > 0 && fix.hdop < 99).toBe(true);
  if (fix.time !== null) {
    expect(new Date(fix.time).toISOString()).toBe(fix.time);
    const year = new Date(fix.time).getUTCFullYear();
    expect(year >= 1979 && year <= 2200).toBe(true);
  }
  if (fix.timeOfDay !== null) expect(fix.timeOfDay).toMatch(/^([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)\.\d{3}$/);
}

describe('NMEA reader fuzzing', () => {
  it(
    'mutated receiver streams in random chunks: never throws, every line counted, every fix well formed',
    () => {
      fc.assert(
        fc.property(STREAM, CUTS, fc.option(fc.integer({ min: 20, max: 300 }), { nil: undefined }), (bytes, cuts, maxLine) => {
          const { fixes, stats } = read(chunked(bytes, cuts), maxLine);
          for (const fix of fixes) expectWellFormed(fix);
          expect(stats.fixes).toBe(fixes.length);
          // Every counted line ended in at least one outcome: a sentence, a checksum error or a bad line.
          expect(stats.sentences + stats.checksumErrors + stats.badLines - stats.overlong).toBeGreaterThanOrEqual(stats.lines);
          expect(stats.proprietary + stats.unsupported + stats.decoded).toBeLessThanOrEqual(stats.sentences);
          expect(stats.missingChecksum).toBeLessThanOrEqual(stats.checksumErrors);
          expect(stats.overlong).toBeLessThanOrEqual(stats.badLines);
          for (const v of Object.values(stats)) expect(Number.isSafeInteger(v) && v >= 0).toBe(true);
        }),
        fuzzParams(4000),
      );
    },
    fuzzTimeout(40_000),
  );

  it(
    'the fixes and counters do not depend on where the bytes were cut',
    () => {
      fc.assert(
        fc.property(STREAM, CUTS, (bytes, cuts) => {
          const whole = read([bytes]);
          const pieces = read(chunked(bytes, cuts));
          const strip = (fixes: Fix[]) => fixes.map(({ receivedAtMono: _ignored, ...rest }) => rest);
          expect(strip(pieces.fixes)).toEqual(strip(whole.fixes));
          expect(pieces.stats).toEqual(whole.stats);
        }),
        fuzzParams(3000),
      );
    },
    fuzzTimeout(30_000),
  );

  it(
    'unmutated epochs still decode: a stream of good epochs gives one positioned fix per fix epoch',
    () => {
      fc.assert(
        fc.property(fc.array(EPOCH, { minLength: 1, maxLength: 6 }), CUTS, (epochs, cuts) => {
          const bytes = Buffer.from(epochs.map((lines) => lines.map((l) => `${l}\r\n`).join('')).join(''), 'latin1');
          const { stats } = read(chunked(bytes, cuts));
          expect(stats.lines).toBe(epochs.length * 4);
          expect(stats.decoded).toBe(epochs.length * 4);
          expect(stats.checksumErrors + stats.badLines).toBe(0);
        }),
        fuzzParams(1000),
      );
    },
    fuzzTimeout(20_000),
  );

  it(
    'single sentences straight into framing and the decoders: never throw, fields null or in range',
    () => {
      const SENTENCE = fc.oneof(
        EPOCH.chain((lines) => fc.constantFrom(...lines)).chain(mutate),
        fc.constantFrom(...OTHER_SENTENCES).map(withChecksum).chain(mutate),
        fc.string({ unit: 'binary', maxLength: 120 }).map((s) => `$${s}`),
      );
      fc.assert(
        fc.property(SENTENCE, (line) => {
          for (const framed of frameLine(line)) {
            if (framed.kind !== 'sentence' || !isSupportedType(framed.type)) continue;
            const s = decodeSentence(framed.talker, framed.type, framed.fields);
            if (s === null) continue;
            const record = s as unknown as Record<string, unknown>;
            for (const key of ['lat', 'lon', 'hdop', 'altM', 'speedKn', 'courseDeg', 'sats'] as const) {
              const v = record[key];
              if (v !== undefined && v !== null) expect(Number.isFinite(v)).toBe(true);
            }
            if (typeof record.lat === 'number') expect(Math.abs(record.lat)).toBeLessThanOrEqual(90);
            if (typeof record.lon === 'number') expect(Math.abs(record.lon)).toBeLessThanOrEqual(180);
          }
        }),
        fuzzParams(10000),
      );
    },
    fuzzTimeout(20_000),
  );

  describe('a recorded log replayed by NmeaFileSource', () => {
    const dir = mkdtempSync(join(tmpdir(), 'roadwatch-nmea-fuzz-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    let n = 0;

    it(
      'finishes on any log, as fast or paced, with the counts and fixes of the reader on the same bytes',
      async () => {
        await fc.assert(
          fc.asyncProperty(STREAM, fc.boolean(), fc.boolean(), async (bytes, paced, comments) => {
            const file = join(dir, `log-${n++}.nmea`);
            const text = comments ? Buffer.concat([Buffer.from('# a gpsd log header\n#\x00\xff junk\n'), bytes]) : bytes;
            writeFileSync(file, text);
            // Paced: realtime with every pause cut to 1 ms, so sentence times are read but nothing waits long.
            const source = new NmeaFileSource({ file, logger: pino({ level: 'silent' }), ...(paced ? { pace: 'realtime' as const, speed: 1000, maxGapMs: 1 } : {}) });
            const fixes: Fix[] = [];
            source.onFix((fix) => fixes.push(fix));
            await source.start();
            const stats = await source.finished();
            await source.stop();
            const reader = new NmeaReader({ commentPrefix: '#' });
            const expected = [...reader.push(text), ...reader.end()];
            expect(stats).toEqual(reader.stats());
            const strip = (list: Fix[]) => list.map(({ receivedAtMono: _ignored, ...rest }) => rest);
            expect(strip(fixes)).toEqual(strip(expected));
          }),
          fuzzParams(1000),
        );
      },
      fuzzTimeout(30_000),
    );
  });
});
