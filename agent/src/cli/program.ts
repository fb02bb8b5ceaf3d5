import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { UserError } from '@roadwatch/shared';
import { addCameraCommand } from './camera.js';
import { addDetectCommand } from './detect.js';
import { addGpsCommand } from './gps.js';
import { addDoctorCommand } from './doctor.js';
import type { CliIo } from './io.js';
import { addStatusCommand } from './status.js';
import { addSyncCommand } from './sync.js';
import { queueCommand, queueExportCommand, queueListCommand, type QueueExportOptions, type QueueListOptions } from './queue.js';
import { replayCommand } from './replay.js';
import { replayDriveCommand, type ReplayDriveCliOptions } from './replay-drive.js';
import { runCommand, type CreateAgent } from './run.js';

/** Exit code for a fatal error: bad usage, bad config, unusable files (1 means "some lines skipped" for replay). */
export const EXIT_FATAL = 2;

export interface CliDeps {
  /** Replaces the dynamic import of the service in `run` (tests). */
  loadCreateAgent?: () => Promise<CreateAgent>;
}

/** The agent package version (src/cli and dist/cli both sit two levels below package.json). */
export function agentVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(io: CliIo, deps: CliDeps, setExitCode: (code: number) => void): Command {
  const program = new Command('roadwatch')
    .description('roadwatch vehicle agent and field tools')
    .version(agentVersion(), '-V, --version', 'print the agent version')
    .option('--config <file>', 'JSON config file (defaults < file < environment)')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride()
    .showHelpAfterError('(run roadwatch help for the commands)');

  program
    .command('replay')
    .description('replay a recorded drive through the full pipeline (--video FILE or --frames DIR, with --nmea FILE), or import events from a JSONL file (--events); results go to the outbox and sync')
    .option('--video <file>', 'a recorded drive video')
    .option('--frames <dir>', 'a folder of the drive’s JPEG frames, in name order')
    .option('--nmea <file>', 'the drive’s GPS log (NMEA 0183)')
    .option('--start <time>', 'GPS time of the first frame, ISO 8601 (default: the video’s creation time, else the log’s first fix)')
    .option('--fps <n>', 'frame rate of the recording to use (default: camera.fps, 5)', parsePositiveNumber)
    .option('--realtime', 'play at recorded speed, dropping frames the detector cannot keep up with, as in the vehicle')
    .option('--events <file>', 'import events from a JSONL file (one event per line, without eventId/seq)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExit code: 0 done, 1 some --events lines skipped, 2 nothing could be replayed.')
    .action(async (_opts, cmd: Command) => {
      const opts = cmd.optsWithGlobals<ReplayDriveCliOptions & { events?: string }>();
      if (opts.events !== undefined) {
        if (opts.video !== undefined || opts.frames !== undefined) throw new UserError('--events imports ready events; it does not go with --video/--frames');
        setExitCode(await replayCommand({ events: opts.events, config: opts.config, json: opts.json }, io));
      } else {
        setExitCode(await replayDriveCommand(opts, io));
      }
    });

  const queue = program
    .command('queue')
    .description('show what waits in the outbox: depth, bytes, oldest unsynced age, last ack, evictions (list and export: see the subcommands)')
    .option('--json', 'print as JSON')
    .action(async (_opts, cmd: Command) => {
      setExitCode(await queueCommand(cmd.optsWithGlobals<{ config?: string; json?: boolean }>(), io));
    });
  queue
    .command('list')
    .description('list the oldest unsynced events (the next to be sent)')
    .option('--limit <n>', 'how many (default 20)', parsePositiveInt)
    .option('--json', 'one JSON object per line: seq, eventId, queuedAt, bytes, event')
    .action(async (_opts, cmd: Command) => {
      setExitCode(await queueListCommand(cmd.optsWithGlobals<QueueListOptions>(), io));
    });
  queue
    .command('export <file>')
    .description('write every unsynced event to a JSONL file (wire format, with eventId and seq); they stay in the outbox')
    .option('--force', 'overwrite the file')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, _opts, cmd: Command) => {
      setExitCode(await queueExportCommand(file, cmd.optsWithGlobals<QueueExportOptions>(), io));
    });

  program
    .command('run')
    .description('run the agent service (outbox and uplink; the camera pipeline when configured)')
    .action(async (_opts, cmd: Command) => {
      setExitCode(await runCommand(cmd.optsWithGlobals<{ config?: string }>(), io, deps.loadCreateAgent));
    });

  addDetectCommand(program, io, setExitCode);
  addGpsCommand(program, io, setExitCode);
  addCameraCommand(program, io, setExitCode);
  addStatusCommand(program, io, setExitCode);
  addSyncCommand(program, io, setExitCode);
  addDoctorCommand(program, io, setExitCode);

  return program;
}

/** Runs one command line and returns the exit code; never throws. */
export async function runCli(argv: readonly string[], io: CliIo, deps: CliDeps = {}): Promise<number> {
  let code = 0;
  const program = buildProgram(io, deps, (c) => (code = c));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_FATAL; // commander printed it
    if (error instanceof UserError) {
      io.stderr.write(`roadwatch: ${error.message}\n`);
      return EXIT_FATAL;
    }
    io.stderr.write(`roadwatch: unexpected error\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT_FATAL;
  }
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}
