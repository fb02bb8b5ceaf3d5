/**
 * NMEA 0183 framing: finds sentences in a line, verifies checksums, splits the address. Pure; never
 * throws, whatever the bytes.
 *
 * Why not an npm NMEA parser (checked 2026-11: nmea-simple 3.3, GPS.js 0.9, @coremarine/nmea-parser
 * 1.6, extended-nmea 2.1): they throw on a bad checksum, on an unknown sentence or an odd field
 * (GPS.js throws on an unexpected GGA quality or GSA mode), GPS.js fills in a missing date from the
 * wall clock (`new Date()`), which breaks the clock policy on a Pi that booted in 1970, and none
 * assembles the sentences of one epoch into one fix the way gpsd does, which is most of the work
 * and what the corpus test checks. The framing and the seven decoders are small enough to own.
 *
 * Rules (the gpsd corpus has an example of each):
 * - a line may hold junk before the `$`, a doubled `$$`, or two sentences run together: every `$`
 *   starts a candidate sentence ('$' may not appear inside one), empty candidates are skipped;
 * - a sentence must end in `*hh` (two hex digits, either case); a missing or malformed checksum
 *   field, or a checksum that does not match the XOR of the characters between `$` and `*`, drops
 *   the sentence and is counted — a corrupted line must never become a position;
 * - only printable ASCII is allowed in the body;
 * - `$P…` is proprietary (ignored, counted); other addresses are a 2-letter talker and a type.
 */

export type FrameError = 'no-checksum' | 'bad-checksum' | 'malformed';

export type Framed =
  | { kind: 'sentence'; talker: string; type: string; fields: string[] }
  | { kind: 'proprietary'; address: string }
  | { kind: 'error'; error: FrameError };

/** Longest sentence body considered (NMEA says 82 characters; high-precision receivers send ~100). */
export const MAX_SENTENCE = 160;

const HEX2 = /^[0-9A-Fa-f]{2}$/;
const ADDRESS = /^([A-Z][A-Z0-9])([A-Z][A-Z0-9]{1,7})$/;

/** All candidate sentences in one line, in order. A line without `$` gives an empty list. */
export function frameLine(line: string): Framed[] {
  const out: Framed[] = [];
  let at = line.indexOf('$');
  while (at !== -1) {
    const next = line.indexOf('$', at + 1);
    const candidate = line.slice(at + 1, next === -1 ? undefined : next);
    if (candidate.length > 0) out.push(frameSentence(candidate));
    at = next;
  }
  return out;
}

/** One sentence without its leading `$`: `GPGGA,…*hh` (trailing whitespace allowed). */
export function frameSentence(text: string): Framed {
  const star = text.lastIndexOf('*');
  if (star === -1) return { kind: 'error', error: 'no-checksum' };
  const body = text.slice(0, star);
  const sum = text.slice(star + 1).trimEnd();
  if (!HEX2.test(sum)) return { kind: 'error', error: 'bad-checksum' };
  if (body.length > MAX_SENTENCE) return { kind: 'error', error: 'malformed' };
  let xor = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return { kind: 'error', error: 'malformed' };
    xor ^= c;
  }
  if (xor !== Number.parseInt(sum, 16)) return { kind: 'error', error: 'bad-checksum' };
  const fields = body.split(',');
  const address = fields.shift() ?? '';
  if (address.startsWith('P')) return { kind: 'proprietary', address };
  const m = ADDRESS.exec(address);
  if (!m) return { kind: 'error', error: 'malformed' };
  return { kind: 'sentence', talker: m[1] as string, type: m[2] as string, fields };
}

/** XOR checksum of a sentence body (between `$` and `*`), as two upper-case hex digits. */
export function nmeaChecksum(body: string): string {
  let xor = 0;
  for (let i = 0; i < body.length; i++) xor ^= body.charCodeAt(i);
  return xor.toString(16).toUpperCase().padStart(2, '0');
}

/** `$body*hh` — for tests, simulators and fakes. */
export function withChecksum(body: string): string {
  const b = body.startsWith('$') ? body.slice(1) : body;
  return `$${b}*${nmeaChecksum(b)}`;
}
