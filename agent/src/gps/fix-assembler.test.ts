import { describe, expect, it } from 'vitest';
import type { Fix } from './fix.js';
import { NmeaReader } from './nmea-reader.js';
import { withChecksum } from './nmea-sentence.js';

/** Runs sentence bodies (no `$`/checksum) through a reader and returns every fix, flushed at the end. */
function fixesOf(bodies: string[], reader = new NmeaReader()): Fix[] {
  const out: Fix[] = [];
  for (const b of bodies) out.push(...reader.push(`${withChecksum(b)}\r\n`));
  return [...out, ...reader.end()];
}

const gga = (t: string, q = 1, sats = 8, alt = '12.5') => `GPGGA,${t},5222.2126,N,00453.7102,E,${q},${String(sats).padStart(2, '0')},0.9,${alt},M,46.0,M,,`;
const rmc = (t: string, status = 'A', date = '221126', mode = 'A') => `GPRMC,${t},${status},5222.2126,N,00453.7102,E,10.0,90.0,${date},,,${mode}`;
const gsa = (mode: number, prns = '01,03,07,08') => `GPGSA,A,${mode},${prns},,,,,,,,,1.6,0.9,1.3`;

describe('FixAssembler: one fix per epoch', () => {
  it('merges GGA + GSA + RMC + VTG + ZDA of one time into one fix', () => {
    const fixes = fixesOf([gga('080000.00'), gsa(3), rmc('080000.00'), 'GPVTG,90.0,T,,M,10.0,N,18.5,K,A', 'GPZDA,080000.00,22,11,2026,,']);
    expect(fixes).toEqual<Fix[]>([
      {
        time: '2026-11-22T08:00:00.000Z',
        timeOfDay: '08:00:00.000',
        lat: 52.37021,
        lon: 4.89517,
        altM: 12.5,
        mode: 3,
        sats: 8,
        hdop: 0.9,
        speedKmh: 18.52,
        courseDeg: 90,
        source: 'nmea',
        receivedAtMono: null,
      },
    ]);
  });

  it('emits an epoch as soon as its learned last sentence arrives (no waiting for the next epoch)', () => {
    const reader = new NmeaReader();
    const push = (b: string, at: number) => reader.push(`${withChecksum(b)}\r\n`, at);
    expect(push(gga('080000.00'), 0)).toEqual([]);
    expect(push(rmc('080000.00'), 10)).toEqual([]);
    expect(push(gga('080001.00'), 1000)).toHaveLength(1); // epoch 1 closed by the new time; RMC learned as the ender
    const second = push(rmc('080001.00'), 1010);
    expect(second).toHaveLength(1);
    expect(second[0]).toMatchObject({ time: '2026-11-22T08:00:01.000Z', receivedAtMono: 1000 });
    expect(reader.end()).toEqual([]);
  });

  it.each<[string, string[], Partial<Fix>]>([
    ['RMC alone: 2D', [rmc('080000')], { mode: 2, lat: 52.37021, altM: null }],
    ['GGA with altitude and 4+ satellites: 3D', [gga('080000', 1, 4)], { mode: 3, altM: 12.5 }],
    ['GGA without altitude: 2D', [gga('080000', 1, 8, '')], { mode: 2, altM: null }],
    ['GSA 3D lifts a GGA without altitude', [gga('080000', 1, 8, ''), gsa(3)], { mode: 3 }],
    ['RMC void: no fix, even with a GGA position', [gga('080000'), rmc('080000', 'V')], { mode: 1, lat: null, lon: null, time: null }],
    ['GGA quality 0: no fix', [gga('080000', 0)], { mode: 1, lat: null }],
    ['GGA quality 8 (simulator): no fix', [gga('080000', 8)], { mode: 1 }],
    ['RMC mode S (simulator): no fix', [rmc('080000', 'A', '221126', 'S')], { mode: 1 }],
    ['RMC status D (differential): a fix', [rmc('080000', 'D')], { mode: 2 }],
  ])('mode: %s', (_what, bodies, expected) => {
    expect(fixesOf(bodies)[0]).toMatchObject(expected);
  });

  it('dates GGA-only epochs from the last RMC, across midnight; before any date the time is null', () => {
    const fixes = fixesOf([gga('235958.00'), rmc('235959.00', 'A', '221126'), gga('235959.00'), gga('000000.00'), gga('000001.00')]);
    expect(fixes.map((f) => [f.timeOfDay, f.time])).toEqual([
      ['23:59:58.000', null],
      ['23:59:59.000', '2026-11-22T23:59:59.000Z'],
      ['00:00:00.000', '2026-11-23T00:00:00.000Z'],
      ['00:00:01.000', '2026-11-23T00:00:01.000Z'],
    ]);
  });

  it('takes the date of a ZDA that runs ahead of the fix (Ashtech AC12), across midnight', () => {
    const [fix] = fixesOf([gga('235959.00'), 'GPZDA,000001.00,23,11,2026,,']);
    expect(fix?.time).toBe('2026-11-22T23:59:59.000Z');
  });

  it('a receiver repeating the time of its last epoch is stuck: no fix', () => {
    const fixes = fixesOf([gga('080000'), rmc('080000'), gga('080000'), rmc('080000')]);
    expect(fixes.map((f) => f.mode)).toEqual([3, 1]);
  });

  it('RMC without a time while searching (`$GPRMC,,V,…`): one no-fix per cycle', () => {
    const fixes = fixesOf(['GPRMC,,V,,,,,,,,,,N', 'GPGGA,,,,,,0,00,99.99,,,,,,', 'GPRMC,,V,,,,,,,,,,N', 'GPGGA,,,,,,0,00,99.99,,,,,,']);
    expect(fixes.map((f) => [f.mode, f.time, f.timeOfDay])).toEqual([
      [1, null, null],
      [1, null, null],
    ]);
  });

  it('an epoch cut short after a 3D fix stays 3D (gpsd does not downgrade on RMC/GLL alone)', () => {
    const fixes = fixesOf([gga('080000'), rmc('080000'), rmc('080001')]);
    expect(fixes.map((f) => f.mode)).toEqual([3, 3]);
  });
});
