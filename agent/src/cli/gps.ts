import { existsSync, readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { UserError } from '@roadwatch/shared';
import { fixJson, hasPosition, type Fix, type FixJson } from '../gps/fix.js';
import { createGpsSource } from '../gps/create-gps-source.js';
import type { GpsSource, GpsStatus } from '../gps/gps-source.js';
import { NmeaReader, type NmeaStats } from '../gps/nmea-reader.js';
import { createLogger } from '../logger.js';
import { ControlClient } from '../control/client.js';
import type { GpsStreamLine } from '../control/gps-stream.js';
import { loadFieldConfig } from './config.js';
import type { CliIo } from './io.js';

export interface GpsOptions {
  config?: string;
  nmea?: string;
  port?: string;
  baud?: number;
  gpsd?: string | true;
  seconds?: number;
  json?: boolean;
  watch?: boolean;
  /** --no-sentences: fixes only with --watch. */
  sentences?: boolean;
}

/** Registers `roadwatch gps` (called from program.ts). */
export function addGpsCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command('gps')
    .description('show GPS fixes: from a recorded NMEA log (--nmea), a receiver (--port, or the configured one), or gpsd (--gpsd); no device credentials needed')
    .option('--nmea <file>', 'parse a recorded NMEA log and print its fixes')
    .option('--port <device>', 'read a receiver on this serial port (default: gps.port from the config)')
    .option('--baud <rate>', 'baud rate for --port (default: gps.baud, 9600)', parsePositiveInt)
    .option('--gpsd [host:port]', 'read fixes from gpsd (default 127.0.0.1:2947)')
    .option('--seconds <n>', 'stop after n seconds (live reading; default: until Ctrl-C)', parsePositiveNumber)
    .option('--watch', 'watch the running service’s receiver (the service owns the port): its fixes and raw sentences, live')
    .option('--no-sentences', 'with --watch: fixes only, without the raw sentences')
    .option('--json', 'one JSON object per fix: time, lat, lon, altM, mode, sats, hdop, speedKmh, courseDeg (with --watch: the service’s stream lines, {"type":"fix"|"sentence"|"status"|"hello",…})')
    .addHelpText('after', '\nExit code: 0 when at least one fix had a position, 1 when none did, 2 when nothing could be read (or, with --watch, the service is not running).')
    .action(async (_opts, cmd: Command) => {
      setExitCode(await gpsCommand(cmd.optsWithGlobals<GpsOptions>(), io));
    });
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n <= 0) throw new InvalidArgumentError('must be a positive whole number, e.g. 9600');
  return n;
}

function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return n;
}

/** `roadwatch gps`: exit 0 when a fix had a position, 1 when none did, 2 when nothing could be read. */
export async function gpsCommand(options: GpsOptions, io: CliIo): Promise<number> {
  const chosen = [options.nmea !== undefined, options.port !== undefined, options.gpsd !== undefined, options.watch === true].filter(Boolean).length;
  if (chosen > 1) throw new UserError(options.watch ? 'choose one of --nmea, --port, --gpsd and --watch (it shows the receiver the service reads)' : 'choose one of --nmea, --port and --gpsd');
  const printer = new FixPrinter(io, options.json === true);
  if (options.watch) return watchService(options, io, printer);
  if (options.nmea !== undefined) return parseFile(options.nmea, io, printer);
  return readLive(options, io, printer);
}

function parseFile(file: string, io: CliIo, printer: FixPrinter): number {
  if (!existsSync(file)) throw new UserError(`NMEA log ${file} not found`, 'check the path');
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new UserError(`cannot read NMEA log ${file}: ${(error as Error).message}`);
  }
  const reader = new NmeaReader({ commentPrefix: '#' });
  for (const fix of [...reader.push(bytes), ...reader.end()]) printer.fix(fix);
  io.stderr.write(`${file}: ${summary(reader.stats(), printer)}\n`);
  return printer.positions > 0 ? 0 : 1;
}

/** `--watch`: the running service's fixes and sentences, from its control endpoint, until Ctrl-C or --seconds. */
async function watchService(options: GpsOptions, io: CliIo, printer: FixPrinter): Promise<number> {
  const client = ControlClient.forConfig(loadFieldConfig(options.config, io.env));
  const abort = new AbortController();
  const stop = () => abort.abort();
  const timer = options.seconds ? setTimeout(stop, options.seconds * 1000) : undefined;
  io.signals.on('SIGINT', stop);
  io.signals.on('SIGTERM', stop);
  let sentences = 0;
  let source = 'the service’s GPS';
  try {
    const how = await client.stream(
      '/gps/stream',
      (text) => {
        let line: GpsStreamLine;
        try {
          line = JSON.parse(text) as GpsStreamLine;
        } catch {
          return;
        }
        if (line.type === 'sentence') sentences += 1;
        if (options.json) {
          if (line.type !== 'sentence' || options.sentences !== false) io.stdout.write(`${text}\n`);
          if (line.type === 'fix') printer.count += 1;
          if (line.type === 'fix' && line.fix.mode >= 2 && line.fix.lat !== null) printer.positions += 1;
          return;
        }
        if (line.type === 'hello') {
          source = line.gps;
          io.stderr.write(`watching ${line.gps} in the running service (${line.message})${options.seconds ? ` for ${options.seconds} s` : ''} — Ctrl-C to stop\n`);
          printer.header();
        } else if (line.type === 'fix') printer.fixJson(line.fix);
        else if (line.type === 'sentence' && options.sentences !== false) io.stdout.write(`  ${line.line}\n`);
        else if (line.type === 'status') io.stderr.write(`gps: ${line.message}\n`);
        else if (line.type === 'dropped') io.stderr.write(`(${line.lines} lines skipped: the terminal reads slower than the receiver sends)\n`);
      },
      abort.signal,
    );
    if (how === 'ended') io.stderr.write('the service closed the stream (stopping?)\n');
  } finally {
    clearTimeout(timer);
    io.signals.off('SIGINT', stop);
    io.signals.off('SIGTERM', stop);
  }
  io.stderr.write(`${source}: ${sentences} lines, ${printer.count} fixes (${printer.positions} with a position)\n`);
  return printer.positions > 0 ? 0 : 1;
}

async function readLive(options: GpsOptions, io: CliIo, printer: FixPrinter): Promise<number> {
  const config = loadFieldConfig(options.config, io.env).gps;
  const logger = createLogger({ level: 'silent', destination: io.stderr });
  const useGpsd = options.gpsd !== undefined || (options.port === undefined && config.source === 'gpsd');
  const [gpsdHost, gpsdPort] = typeof options.gpsd === 'string' ? parseHostPort(options.gpsd) : [config.gpsdHost, config.gpsdPort];
  const source: GpsSource & { stats?: () => NmeaStats } = createGpsSource(
    useGpsd ? { ...config, source: 'gpsd', gpsdHost, gpsdPort } : { ...config, source: 'serial', port: options.port ?? config.port, baud: options.baud ?? config.baud },
    { logger },
  );

  source.onFix((fix) => printer.fix(fix));
  let lastMessage = '';
  const tell = (s: GpsStatus) => {
    if (s.message !== lastMessage) io.stderr.write(`gps: ${s.message}\n`);
    lastMessage = s.message;
  };
  source.onStatus(tell);
  await source.start();
  const first = source.status();
  if (first.state === 'fault') {
    tell(first);
    await source.stop();
    return 2;
  }
  if (!options.json) io.stderr.write(`reading ${source.name}${options.seconds ? ` for ${options.seconds} s` : ''} — Ctrl-C to stop\n`);

  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      io.signals.off('SIGINT', done);
      io.signals.off('SIGTERM', done);
      resolve();
    };
    const timer = options.seconds ? setTimeout(done, options.seconds * 1000) : undefined;
    io.signals.on('SIGINT', done);
    io.signals.on('SIGTERM', done);
  });
  await source.stop();
  const status = source.status();
  const stats: Pick<NmeaStats, 'sentences' | 'checksumErrors' | 'badLines'> = source.stats?.() ?? status;
  io.stderr.write(`${source.name}: ${summary(stats, printer)}${status.state === 'ok' ? '' : `; last status: ${status.message}`}\n`);
  return printer.positions > 0 ? 0 : 1;
}

function parseHostPort(value: string): [string, number] {
  const m = /^(\[[^\]]+\]|[^:]+)?(?::(\d+))?$/.exec(value.trim());
  if (!m) throw new UserError(`--gpsd ${value}: expected host, host:port or :port`);
  return [m[1]?.replace(/^\[|\]$/g, '') || '127.0.0.1', m[2] ? Number(m[2]) : 2947];
}

function summary(stats: Partial<NmeaStats> & Pick<NmeaStats, 'sentences' | 'checksumErrors' | 'badLines'>, printer: FixPrinter): string {
  const parts = [`${stats.sentences} sentences`, `${stats.checksumErrors} checksum errors`, `${stats.badLines} bad lines`];
  if (stats.proprietary) parts.push(`${stats.proprietary} proprietary`);
  if (stats.unsupported) parts.push(`${stats.unsupported} of other types`);
  parts.push(`${printer.count} fixes (${printer.positions} with a position)`);
  return parts.join(', ');
}

/** Prints fixes as JSON lines or as a table (header first). */
class FixPrinter {
  count = 0;
  positions = 0;
  private headed = false;

  constructor(
    private readonly io: CliIo,
    private readonly json: boolean,
  ) {}

  fix(fix: Fix): void {
    this.count += 1;
    if (hasPosition(fix)) this.positions += 1;
    if (this.json) {
      this.io.stdout.write(`${JSON.stringify(fixJson(fix))}\n`);
      return;
    }
    this.row(fix);
  }

  /** A fix as the service streams it (the `--json` fields). */
  fixJson(fix: FixJson): void {
    this.count += 1;
    if (fix.mode >= 2 && fix.lat !== null && fix.lon !== null) this.positions += 1;
    this.row({ ...fix, timeOfDay: null });
  }

  /** The table's header, once. */
  header(): void {
    if (this.headed || this.json) return;
    this.io.stdout.write(`${row(['time (UTC)', 'fix', 'lat', 'lon', 'alt m', 'sats', 'hdop', 'km/h', 'course'])}\n`);
    this.headed = true;
  }

  private row(fix: Pick<Fix, 'time' | 'timeOfDay' | 'lat' | 'lon' | 'altM' | 'mode' | 'sats' | 'hdop' | 'speedKmh' | 'courseDeg'>): void {
    this.header();
    const n = (v: number | null, digits: number) => (v === null ? '—' : v.toFixed(digits));
    this.io.stdout.write(
      `${row([fix.time ?? (fix.timeOfDay ? `(no date) ${fix.timeOfDay}` : '—'), MODE[fix.mode], n(fix.lat, 7), n(fix.lon, 7), n(fix.altM, 1), fix.sats === null ? '—' : String(fix.sats), n(fix.hdop, 2), n(fix.speedKmh, 1), n(fix.courseDeg, 1)])}\n`,
    );
  }
}

const MODE = ['—', 'none', '2D', '3D'] as const;
const WIDTHS = [24, 4, 11, 12, 7, 4, 5, 6, 6];

function row(cells: string[]): string {
  return cells.map((c, i) => (i < 2 ? c.padEnd(WIDTHS[i] ?? 0) : c.padStart(WIDTHS[i] ?? 0))).join('  ');
}
