import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import { SerialPort } from 'serialport';
import { Backoff } from '../uplink/backoff.js';
import type { StreamCounts } from './gps-health.js';
import type { GpsSource } from './gps-source.js';
import { NmeaReader } from './nmea-reader.js';
import { explainSerialError } from './serial-errors.js';
import { SourceBase, type SourceTiming } from './source-base.js';

/** The part of a serial port the source uses (serialport's SerialPort has it). */
export interface SerialLink {
  open(callback: (error: Error | null) => void): void;
  close(callback?: (error: Error | null) => void): void;
  readonly isOpen: boolean;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'close', listener: (error?: Error | null) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  removeAllListeners(): this;
}

export type SerialOpener = (path: string, baudRate: number) => SerialLink;

/** The real serial port (serialport 13). `SerialPort.list()` is never called: it throws without udevadm. */
export const openSerialPort: SerialOpener = (path, baudRate) => new SerialPort({ path, baudRate, autoOpen: false });

export interface SerialGpsSourceOptions extends SourceTiming {
  port: string;
  baud: number;
  logger: Logger;
  /** Reopen delays after a failure or an unplug (jittered exponential). */
  reopenMinMs?: number;
  reopenMaxMs?: number;
  /** Replaces the real serial port (for a different transport); tests use the real one on a pty. */
  openPort?: SerialOpener;
  random?: () => number;
}

/**
 * NMEA from a receiver on a serial port (USB or UART). The port is opened with `baud`; lines are
 * split by NmeaReader (not serialport's ReadlineParser: it has no length cap and no CR-only
 * endings). A failed open or an unplug is a `fault` status naming the fix; the port is reopened
 * with backoff until it is back, and the line state is reset so a half sentence from before the
 * unplug is never glued to one after it.
 */
export class SerialGpsSource extends SourceBase implements GpsSource {
  private readonly reader = new NmeaReader({ onLine: (line) => this.emitSentence(line) });
  private readonly backoff: Backoff;
  private readonly openPort: SerialOpener;
  private link: SerialLink | null = null;
  private reopenTimer: NodeJS.Timeout | null = null;
  private running = false;
  private opening: Promise<void> | null = null;

  constructor(private readonly options: SerialGpsSourceOptions) {
    super(`serial:${options.port}`, options.logger, { what: `GPS port ${options.port}`, garbledHint: `wrong baud rate? gps.baud is ${options.baud} (most receivers send at 9600; u-blox 8/9 and many GNSS modules at 38400 or 115200)` }, options);
    this.openPort = options.openPort ?? openSerialPort;
    this.backoff = new Backoff({ minMs: options.reopenMinMs ?? 500, maxMs: options.reopenMaxMs ?? 30_000, jitter: 'full' }, options.random);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.startTicker();
    await this.openOnce();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopTicker();
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.reopenTimer = null;
    await this.opening;
    const link = this.link;
    this.link = null;
    if (link) await closeQuietly(link);
  }

  protected counts(): StreamCounts {
    return this.reader.stats();
  }

  /**
   * Unplug detection does not rest on the driver alone: when the device node (or its
   * /dev/serial/by-id link) is gone, the port is closed and reopening starts, even if no hangup
   * was delivered on the open file descriptor.
   */
  protected override tick(): void {
    const link = this.link;
    if (link && !existsSync(this.options.port)) this.detach(link, Object.assign(new Error(`${this.options.port} disappeared`), { disconnected: true }));
  }

  /** Running counters of the NMEA stream. */
  stats() {
    return this.reader.stats();
  }

  private openOnce(): Promise<void> {
    this.opening = new Promise<void>((resolve) => {
      let link: SerialLink;
      try {
        link = this.openPort(this.options.port, this.options.baud);
        link.on('error', ignore);
      } catch (error) {
        this.fail(error);
        resolve();
        return;
      }
      link.open((error) => {
        if (error) {
          this.fail(error);
        } else if (!this.running) {
          void closeQuietly(link);
        } else {
          this.attach(link);
        }
        resolve();
      });
    }).finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  private attach(link: SerialLink): void {
    this.link = link;
    this.reader.reset();
    this.backoff.reset();
    this.health.opened();
    link.on('data', (chunk) => this.data(chunk));
    // A read error or the device going away (serialport: 'close' with disconnected = true).
    link.on('error', (error) => this.detach(link, error));
    link.on('close', (error) => this.detach(link, error ?? Object.assign(new Error('port closed'), { disconnected: true })));
    this.report();
  }

  private detach(link: SerialLink, error: unknown): void {
    if (this.link !== link) return;
    this.link = null;
    void closeQuietly(link);
    this.fail(error);
  }

  private data(chunk: Buffer): void {
    this.health.bytes();
    const fixes = this.reader.push(chunk, this.now());
    this.health.counts(this.reader.stats());
    for (const fix of fixes) this.emitFix(fix);
    this.report();
  }

  private fail(error: unknown): void {
    this.reader.reset();
    this.health.failed(explainSerialError(this.options.port, error));
    this.report();
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    if (!this.running || this.reopenTimer || this.link) return;
    const delay = this.backoff.next();
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = null;
      if (this.running) void this.openOnce();
    }, delay);
  }
}

/** Closes and drops our listeners; an 'error' listener stays so a late error can never crash the process. */
function closeQuietly(link: SerialLink): Promise<void> {
  const forget = () => {
    link.removeAllListeners();
    link.on('error', ignore);
  };
  return new Promise((resolve) => {
    if (!link.isOpen) {
      forget();
      resolve();
      return;
    }
    link.close(() => {
      forget();
      resolve();
    });
  });
}

function ignore(): void {}
