import { FixAssembler } from './fix-assembler.js';
import type { Fix } from './fix.js';
import { decodeSentence, isSupportedType, type Sentence } from './nmea-decode.js';
import { DEFAULT_MAX_LINE, NmeaLineSplitter } from './nmea-lines.js';
import { frameLine } from './nmea-sentence.js';

/** Counters of what came in on an NMEA stream. Every input line is accounted for. */
export interface NmeaStats {
  /** Lines seen (after splitting; blank lines not counted). */
  lines: number;
  /** Sentences with a good checksum (all types, including proprietary and unsupported ones). */
  sentences: number;
  /** Sentences of a supported type that were decoded and used. */
  decoded: number;
  /** Sentences dropped for a bad, malformed or missing checksum. */
  checksumErrors: number;
  /** Of checksumErrors: sentences with no `*hh` at all (truncated lines). */
  missingChecksum: number;
  /** Lines that held no sentence at all, overlong lines, and sentences with a bad address or too few fields. */
  badLines: number;
  /** Of badLines: lines longer than the cap. */
  overlong: number;
  /** `$P…` sentences (ignored). */
  proprietary: number;
  /** Good sentences of a type a fix is not made of (TXT, GST, GBS, RMB, …), ignored. */
  unsupported: number;
  fixes: number;
}

export interface NmeaReaderOptions {
  maxLine?: number;
  /** Lines starting with this are skipped without counting (gpsd's test logs use `#`). */
  commentPrefix?: string;
  /** Called for every decoded sentence (e.g. for a sentence log); must not throw. */
  onSentence?: (sentence: Sentence) => void;
  /** Called with every input line as received (good or not, comments excepted), e.g. for `gps --watch`; must not throw. */
  onLine?: (line: string) => void;
}

export function emptyStats(): NmeaStats {
  return { lines: 0, sentences: 0, decoded: 0, checksumErrors: 0, missingChecksum: 0, badLines: 0, overlong: 0, proprietary: 0, unsupported: 0, fixes: 0 };
}

/**
 * Bytes in, fixes out: line splitting, framing and checksums, decoding, epoch assembly, counting.
 * Pure and synchronous (no I/O); never throws on input. One instance per stream — after a reopen,
 * call `reset()` so a half line from the old port is not glued to the new one.
 */
export class NmeaReader {
  private splitter: NmeaLineSplitter;
  private assembler = new FixAssembler();
  private readonly counters = emptyStats();
  private overlongBase = 0;

  constructor(private readonly options: NmeaReaderOptions = {}) {
    this.splitter = new NmeaLineSplitter(options.maxLine ?? DEFAULT_MAX_LINE, options.commentPrefix);
  }

  /** Feeds raw bytes (or text); `rxMono` is when they arrived (monotonic ms), if known. */
  push(chunk: Buffer | string, rxMono: number | null = null): Fix[] {
    const fixes: Fix[] = [];
    for (const line of this.splitter.push(chunk)) this.line(line, rxMono, fixes);
    this.syncOverlong();
    return fixes;
  }

  /** End of stream: the last partial line and the open epoch. */
  end(): Fix[] {
    const fixes: Fix[] = [];
    for (const line of this.splitter.end()) this.line(line, null, fixes);
    this.syncOverlong();
    for (const fix of this.assembler.flush()) this.emit(fix, fixes);
    return fixes;
  }

  /** Drops any partial line and open epoch (after the port was reopened); counters are kept. */
  reset(): void {
    this.syncOverlong();
    this.overlongBase = this.counters.overlong;
    this.splitter = new NmeaLineSplitter(this.options.maxLine ?? DEFAULT_MAX_LINE, this.options.commentPrefix);
    this.assembler = new FixAssembler();
  }

  stats(): NmeaStats {
    return { ...this.counters };
  }

  private line(line: string, rxMono: number | null, fixes: Fix[]): void {
    const { commentPrefix } = this.options;
    if (commentPrefix !== undefined && line.startsWith(commentPrefix)) return;
    if (line.trim() === '') return;
    this.counters.lines += 1;
    this.options.onLine?.(line);
    const framed = frameLine(line);
    if (framed.length === 0) {
      this.counters.badLines += 1;
      return;
    }
    for (const f of framed) {
      if (f.kind === 'error') {
        if (f.error === 'malformed') this.counters.badLines += 1;
        else {
          this.counters.checksumErrors += 1;
          if (f.error === 'no-checksum') this.counters.missingChecksum += 1;
        }
        continue;
      }
      this.counters.sentences += 1;
      if (f.kind === 'proprietary') {
        this.counters.proprietary += 1;
        continue;
      }
      if (!isSupportedType(f.type)) {
        this.counters.unsupported += 1;
        continue;
      }
      const sentence = decodeSentence(f.talker, f.type, f.fields);
      if (sentence === null) {
        this.counters.badLines += 1;
        continue;
      }
      this.counters.decoded += 1;
      this.options.onSentence?.(sentence);
      for (const fix of this.assembler.push(sentence, rxMono)) this.emit(fix, fixes);
    }
  }

  private emit(fix: Fix, fixes: Fix[]): void {
    this.counters.fixes += 1;
    fixes.push(fix);
  }

  private syncOverlong(): void {
    const now = this.overlongBase + this.splitter.overlong;
    if (now !== this.counters.overlong) {
      this.counters.badLines += now - this.counters.overlong;
      this.counters.overlong = now;
    }
  }
}
