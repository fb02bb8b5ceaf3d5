import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeSentence, type Gga, type Gsa, type Gsv, type Rmc, type Vtg, type Zda } from './nmea-decode.js';
import { NmeaLineSplitter } from './nmea-lines.js';
import { NmeaReader } from './nmea-reader.js';
import { frameLine, frameSentence, withChecksum } from './nmea-sentence.js';

const GGA = '$GPGGA,202640.000,4404.1306,N,12118.8515,W,2,10,0.98,1127.7,M,-19.6,M,0000,0000*6C';

describe('framing (checksums, junk, $$, several sentences on a line)', () => {
  it.each([
    ['a good sentence', GGA, [{ kind: 'sentence', talker: 'GP', type: 'GGA' }]],
    ['junk before the $', `\u0000\u00ffjunk ${GGA}`, [{ kind: 'sentence', type: 'GGA' }]],
    ['a doubled $$ (ST Teseo)', `$${GGA}`, [{ kind: 'sentence', type: 'GGA' }]],
    ['a lower-case checksum (Magellan)', '$GPRMC,205150,V,4404.0000,N,12120.0000,W,0.0,0.0,090605,,*4a'.replace('*4a', `*${withChecksum('GPRMC,205150,V,4404.0000,N,12120.0000,W,0.0,0.0,090605,,').slice(-2).toLowerCase()}`), [{ kind: 'sentence', type: 'RMC' }]],
    ['a bad checksum', GGA.replace('*6C', '*6D'), [{ kind: 'error', error: 'bad-checksum' }]],
    ['a one-digit checksum', GGA.replace('*6C', '*6'), [{ kind: 'error', error: 'bad-checksum' }]],
    ['garbage after the checksum', `${GGA}\u001b[H`, [{ kind: 'error', error: 'bad-checksum' }]],
    ['no checksum (truncated)', '$GPGGA,030130', [{ kind: 'error', error: 'no-checksum' }]],
    ['a truncated sentence then a whole one (Triton 400)', `$GPGGA,030130${GGA}`, [{ kind: 'error', error: 'no-checksum' }, { kind: 'sentence', type: 'GGA' }]],
    ['two whole sentences run together', `${GGA}${GGA}`, [{ kind: 'sentence' }, { kind: 'sentence' }]],
    ['a proprietary sentence', withChecksum('PGRMZ,48,f,3'), [{ kind: 'proprietary', address: 'PGRMZ' }]],
    ['a mangled address', withChecksum('GPN,00000.0000,E,0,00'), [{ kind: 'error', error: 'malformed' }]],
    ['a control character inside', withChecksum('GPGGA,1\u00002'), [{ kind: 'error', error: 'malformed' }]],
    ['no $ at all', '+ 6: 28 (.....)', []],
  ])('%s', (_what, line, expected) => {
    const framed = frameLine(line);
    expect(framed).toHaveLength(expected.length);
    expected.forEach((e, i) => expect(framed[i]).toMatchObject(e));
  });

  it('never throws, whatever the text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => void frameSentence(s)));
  });
});

describe('line splitting', () => {
  it('splits on CRLF, LF, CR and CR CR LF; keeps a line split across chunks', () => {
    const s = new NmeaLineSplitter();
    expect(s.push('a\r\nb\nc\rd\r\r\ne')).toEqual(['a', 'b', 'c', 'd']);
    expect(s.push('f\r')).toEqual(['ef']);
    expect(s.push('\ng')).toEqual([]);
    expect(s.end()).toEqual(['g']);
  });

  it('drops an overlong line whole, even when it comes in pieces, and counts it', () => {
    const s = new NmeaLineSplitter(10);
    expect(s.push('0123456789ABC')).toEqual([]);
    expect(s.push('DEF\nok\n')).toEqual(['ok']);
    expect(s.overlong).toBe(1);
  });
});

describe('NmeaReader counters', () => {
  it('accounts for every line and never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 120 }), { maxLength: 20 }), (chunks) => {
        const r = new NmeaReader();
        for (const c of chunks) r.push(Buffer.from(c));
        r.end();
        const s = r.stats();
        expect(s.decoded).toBeLessThanOrEqual(s.sentences);
        expect(s.proprietary + s.unsupported + s.decoded).toBeLessThanOrEqual(s.sentences);
      }),
    );
  });

  it('counts bad checksums, missing checksums, junk, overlong, proprietary and unsupported lines', () => {
    const r = new NmeaReader({ maxLine: 100 });
    r.push(`${GGA}\r\n${GGA.replace('*6C', '*00')}\r\n$GPGGA,2026\r\nhello\r\n${'$GPTXT,'.padEnd(150, 'x')}\r\n${withChecksum('PUBX,00')}\r\n${withChecksum('GPTXT,01,01,02,hi')}\r\n`);
    expect(r.stats()).toEqual({ lines: 6, sentences: 3, decoded: 1, checksumErrors: 2, missingChecksum: 1, badLines: 2, overlong: 1, proprietary: 1, unsupported: 1, fixes: 0 });
  });
});

describe('decoders (talker-agnostic)', () => {
  const f = (body: string) => frameLine(withChecksum(body))[0] as { talker: string; type: 'GGA'; fields: string[] };
  const decode = (body: string) => {
    const x = f(body);
    return decodeSentence(x.talker, x.type, x.fields);
  };

  it.each(['GP', 'GN', 'GL', 'GA', 'GB', 'BD', 'QZ', 'GQ', 'GI'])('%sGGA decodes the same way', (talker) => {
    expect(decode(`${talker}GGA,123519.5,4807.038,N,01131.324,E,1,08,0.9,545.4,M,46.9,M,,`)).toEqual<Gga>({
      type: 'GGA',
      talker,
      time: { msOfDay: 45_319_500, text: '12:35:19.500' },
      lat: 48.1173,
      lon: 11.522066666666667,
      quality: 1,
      sats: 8,
      hdop: 0.9,
      altM: 545.4,
      geoidSepM: 46.9,
    });
  });

  it('RMC: southern/western hemisphere, date, knots; NMEA 4.10 extra fields', () => {
    expect(decode('GNRMC,003956.00,A,4551.93468,S,17030.71806,W,0.011,,120419,,,A,V')).toMatchObject<Partial<Rmc>>({
      status: 'A',
      lat: -(45 + 51.93468 / 60),
      lon: -(170 + 30.71806 / 60),
      speedKn: 0.011,
      courseDeg: null,
      date: { year: 2019, month: 4, day: 12 },
      faaMode: 'A',
    });
  });

  it('VTG, GSA (with system id), GSV (with signal id), ZDA', () => {
    expect(decode('GPVTG,054.7,T,034.4,M,005.5,N,010.2,K,A')).toMatchObject<Partial<Vtg>>({ courseDeg: 54.7, speedKn: 5.5, speedKmh: 10.2, faaMode: 'A' });
    expect(decode('GNGSA,A,3,80,71,73,79,69,,,,,,,,1.83,1.09,1.47,2')).toMatchObject<Partial<Gsa>>({ fixMode: 3, prns: [80, 71, 73, 79, 69], pdop: 1.83, hdop: 1.09, vdop: 1.47, systemId: 2 });
    expect(decode('GAGSV,3,1,09,02,00,179,,04,09,321,,07,11,134,11,11,10,227,,7')).toMatchObject<Partial<Gsv>>({ total: 3, index: 1, inView: 9, signalId: 7 });
    expect((decode('GPGSV,1,1,00') as Gsv).satellites).toEqual([]);
    expect(decode('GPZDA,160012.71,11,03,2004,-1,00')).toMatchObject<Partial<Zda>>({ time: { msOfDay: 57_612_710, text: '16:00:12.710' }, date: { year: 2004, month: 3, day: 11 } });
  });

  it('malformed fields become null, never a wrong number', () => {
    expect(decode('GPGGA,2x0000,36000.0000,N,72000.0000,E,1,,99.99,,M,,M,,')).toMatchObject({ time: null, lat: null, lon: null, sats: null, hdop: null, altM: null });
    expect(decode('GPRMC,250000,A,4807.038,Q,01131.324,E,,,320119,,')).toMatchObject({ time: null, lat: null, date: null });
    expect(decode('GPGSA,A,1,,')).toBeNull(); // too short: counted as a bad line
  });
});
