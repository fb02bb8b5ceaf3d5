import { readFile } from 'node:fs/promises';
import { setImmediate as yieldNow, setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { StreamCounts } from './gps-health.js';
import type { GpsSource } from './gps-source.js';
import { decodeSentence, isSupportedType } from './nmea-decode.js';
import { NmeaReader, type NmeaStats } from './nmea-reader.js';
import { frameLine } from './nmea-sentence.js';
import { SourceBase, type SourceTiming } from './source-base.js';

export interface NmeaFileSourceOptions extends SourceTiming {
  file: string;
  logger: Logger;
  /** `realtime`: paced by the sentence times; `fast`: as fast as possible (default). */
  pace?: 'realtime' | 'fast';
  /** Realtime only: 2 = twice as fast as recorded. */
  speed?: number;
  /** Realtime only: a longer pause in the log (a cut recording) is shortened to this. Default 5 s. */
  maxGapMs?: number;
}

const DAY_MS = 86_400_000;
const CHUNK_LINES = 2000;

/**
 * Replays a recorded NMEA log (one sentence per line; `#` lines are comments, as in gpsd's test
 * logs). Realtime pacing follows the time of fix in GGA/RMC/GLL/GNS: each new epoch is released when
 * as much time has passed as between it and the previous epoch in the log (time going backwards —
 * two recordings joined — releases at once; a pause over `maxGapMs` is shortened).
 */
export class NmeaFileSource extends SourceBase implements GpsSource {
  private readonly reader = new NmeaReader({ commentPrefix: '#', onLine: (line) => this.emitSentence(line) });
  private running = false;
  private abort = new AbortController();
  private done: Promise<NmeaStats> = Promise.resolve(this.reader.stats());

  constructor(private readonly options: NmeaFileSourceOptions) {
    super(`file:${options.file}`, options.logger, { what: `NMEA log ${options.file}` }, options);
  }

  /** Reads the file and starts the replay; resolves once it runs (or failed to read: see status()). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    let text: string;
    try {
      text = await readFile(this.options.file, 'latin1');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      this.health.failed(
        code === 'ENOENT' ? `NMEA log ${this.options.file} not found — check the path` : code === 'EACCES' ? `NMEA log ${this.options.file}: permission denied` : `NMEA log ${this.options.file}: ${(error as Error).message}`,
      );
      this.running = false;
      this.report();
      return;
    }
    this.health.opened();
    this.abort = new AbortController();
    this.startTicker();
    this.done = this.replay(text.split(/\r\n|\n|\r/)).finally(() => {
      this.running = false;
      this.stopTicker();
      this.report();
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await this.done;
  }

  /** Resolves with the stream counts when the whole log has been replayed (or the source stopped). */
  finished(): Promise<NmeaStats> {
    return this.done;
  }

  stats(): NmeaStats {
    return this.reader.stats();
  }

  protected counts(): StreamCounts {
    return this.reader.stats();
  }

  private async replay(lines: string[]): Promise<NmeaStats> {
    const realtime = this.options.pace === 'realtime';
    const speed = this.options.speed ?? 1;
    const maxGap = this.options.maxGapMs ?? 5000;
    const start = this.now();
    let logMs = 0;
    let lastTod: number | null = null;
    for (let i = 0; i < lines.length && this.running; i++) {
      const line = lines[i] as string;
      if (realtime) {
        const tod = timeOfFix(line);
        if (tod !== null && lastTod !== null && tod !== lastTod) {
          let gap = tod - lastTod;
          if (gap < -DAY_MS / 2) gap += DAY_MS; // midnight
          logMs += gap < 0 ? 0 : Math.min(gap, maxGap);
          const wait = start + logMs / speed - this.now();
          if (wait > 0) await sleep(wait, undefined, { signal: this.abort.signal }).catch(() => undefined);
          if (!this.running) break;
        }
        if (tod !== null) lastTod = tod;
      } else if (i % CHUNK_LINES === 0 && i > 0) {
        await yieldNow();
      }
      this.feed(`${line}\n`, realtime ? this.now() : null);
    }
    for (const fix of this.reader.end()) this.emitFix(fix);
    return this.reader.stats();
  }

  private feed(text: string, rx: number | null): void {
    this.health.bytes();
    const fixes = this.reader.push(text, rx);
    this.health.counts(this.reader.stats());
    for (const fix of fixes) this.emitFix(fix);
  }
}

/** Time of fix (ms of day) of a line holding a good GGA/RMC/GLL/GNS, else null. */
function timeOfFix(line: string): number | null {
  for (const f of frameLine(line)) {
    if (f.kind !== 'sentence' || !isSupportedType(f.type)) continue;
    const s = decodeSentence(f.talker, f.type, f.fields);
    if (s && (s.type === 'GGA' || s.type === 'RMC' || s.type === 'GLL' || s.type === 'GNS') && s.time) return s.time.msOfDay;
  }
  return null;
}
