import { connect as netConnect, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { Backoff } from '../uplink/backoff.js';
import type { Fix } from './fix.js';
import type { StreamCounts } from './gps-health.js';
import type { GpsSource } from './gps-source.js';
import { parseGpsdLine, skySummary, tpvToFix, type GpsdTpv, type SkySummary } from './gpsd-json.js';
import { NmeaLineSplitter } from './nmea-lines.js';
import { SourceBase, type SourceTiming } from './source-base.js';

export interface GpsdSourceOptions extends SourceTiming {
  host?: string;
  port?: number;
  logger: Logger;
  /** Opens the TCP connection; net.connect by default. */
  connect?: (port: number, host: string) => Socket;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /**
   * gpsd may report one epoch several times while its sentences arrive (until it has learned the
   * receiver's cycle): a TPV is held this long, or until a TPV with another time arrives, and only
   * the last report of a time becomes a fix.
   */
  settleMs?: number;
  random?: () => number;
}

/** The WATCH command: JSON reports (TPV, SKY, …) for every device gpsd has. */
export const GPSD_WATCH = '?WATCH={"enable":true,"json":true};\n';

/** gpsd JSON lines can be long (a SKY with 60 satellites), but not this long. */
const MAX_JSON_LINE = 256 * 1024;

/**
 * Fixes from gpsd over TCP (port 2947): sends `?WATCH={"enable":true,"json":true}`, reads TPV and
 * SKY reports, reconnects with backoff when gpsd is down or restarts. For vehicles where gpsd
 * already owns the receiver (or feeds chrony with it).
 */
export class GpsdSource extends SourceBase implements GpsSource {
  private readonly host: string;
  private readonly port: number;
  private readonly backoff: Backoff;
  private socket: Socket | null = null;
  private splitter = new NmeaLineSplitter(MAX_JSON_LINE);
  private running = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private settleTimer: NodeJS.Timeout | null = null;
  private held: { tpv: GpsdTpv; rx: number } | null = null;
  private sky: SkySummary = { sats: null, hdop: null };
  private readonly count: StreamCounts = { sentences: 0, checksumErrors: 0, badLines: 0 };

  constructor(private readonly options: GpsdSourceOptions) {
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 2947;
    super(`gpsd:${host}:${port}`, options.logger, { what: `gpsd at ${host}:${port}`, silentHint: 'is a receiver attached to gpsd? (`gpspipe -w` shows what gpsd sees)' }, options);
    this.host = host;
    this.port = port;
    this.backoff = new Backoff({ minMs: options.reconnectMinMs ?? 500, maxMs: options.reconnectMaxMs ?? 30_000, jitter: 'full' }, options.random);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.startTicker();
    await this.connectOnce();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopTicker();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.settle();
    const socket = this.socket;
    this.socket = null;
    if (socket && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.destroy();
      });
    }
  }

  protected counts(): StreamCounts {
    return { ...this.count };
  }

  /** Resolves once connected or once the attempt failed. */
  private connectOnce(): Promise<void> {
    return new Promise<void>((resolve) => {
      const connect = this.options.connect ?? ((port, host) => netConnect({ port, host }));
      const socket = connect(this.port, this.host);
      this.socket = socket;
      socket.setNoDelay(true);
      socket.once('connect', () => {
        if (this.socket !== socket) return;
        this.splitter = new NmeaLineSplitter(MAX_JSON_LINE);
        this.backoff.reset();
        this.health.opened();
        socket.write(GPSD_WATCH);
        this.report();
        resolve();
      });
      socket.on('data', (chunk: Buffer) => this.data(chunk));
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (this.socket === socket) this.health.failed(this.explain(error));
      });
      socket.on('close', () => {
        if (this.socket !== socket) return;
        this.socket = null;
        this.settle();
        if (this.running) {
          this.health.failed(this.currentFault() ?? `gpsd at ${this.host}:${this.port} closed the connection — reconnecting`);
          this.report();
          this.scheduleReconnect();
        }
        resolve();
      });
    });
  }

  private currentFault(): string | null {
    const s = this.status();
    return s.state === 'fault' ? s.message : null;
  }

  private explain(error: NodeJS.ErrnoException): string {
    const where = `gpsd at ${this.host}:${this.port}`;
    switch (error.code) {
      case 'ECONNREFUSED':
        return `${where} refused the connection — is gpsd running? (systemctl status gpsd), or set gps.source to "serial"`;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return `gpsd host ${this.host} not found — check gps.gpsdHost`;
      case 'ETIMEDOUT':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return `${where} unreachable (${error.code}) — check gps.gpsdHost and the network`;
      case 'ECONNRESET':
      case 'EPIPE':
        return `${where} dropped the connection — reconnecting`;
      default:
        return `${where}: ${error.message}`;
    }
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.running) void this.connectOnce();
    }, this.backoff.next());
  }

  private data(chunk: Buffer): void {
    this.health.bytes();
    for (const line of this.splitter.push(chunk)) this.line(line);
    this.health.counts(this.count);
    this.report();
  }

  private line(line: string): void {
    if (line.trim() !== '') this.emitSentence(line);
    const report = parseGpsdLine(line);
    if (report === null) {
      this.count.badLines += 1;
      return;
    }
    switch (report.class) {
      case 'TPV':
        this.count.sentences += 1;
        this.tpv(report as GpsdTpv);
        break;
      case 'SKY':
        this.count.sentences += 1;
        this.sky = skySummary(report as Parameters<typeof skySummary>[0]);
        break;
      case 'DEVICES': {
        const devices = (report as { devices?: unknown }).devices;
        if (Array.isArray(devices) && devices.length === 0) {
          this.health.hint('gpsd reports no GPS device — give gpsd the receiver\'s port (DEVICES in /etc/default/gpsd, or `gpsdctl add /dev/ttyUSB0`)');
        } else if (Array.isArray(devices)) {
          this.health.hint('is the receiver attached to gpsd sending? (`gpspipe -w` shows what gpsd sees)');
        }
        break;
      }
      case 'ERROR': {
        const message = (report as { message?: unknown }).message;
        this.health.noted(`gpsd at ${this.host}:${this.port} says: ${typeof message === 'string' ? message : 'error'}`);
        break;
      }
      default:
        break; // VERSION, WATCH, DEVICE, GST, ATT, PPS, TOFF, …
    }
  }

  /** Holds the newest TPV of an epoch; a TPV with another time (or a quiet spell) releases it. */
  private tpv(tpv: GpsdTpv): void {
    const rx = this.now();
    if (this.held && this.held.tpv.time !== tpv.time) this.settle();
    this.held = { tpv, rx: this.held?.rx ?? rx };
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      this.settle();
      this.report();
    }, this.options.settleMs ?? 150);
    this.settleTimer.unref();
  }

  private settle(): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = null;
    const held = this.held;
    this.held = null;
    if (held) this.emitFix(this.toFix(held.tpv, held.rx));
  }

  private toFix(tpv: GpsdTpv, rx: number): Fix {
    return tpvToFix(tpv, this.sky, rx);
  }
}
