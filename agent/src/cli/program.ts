import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { UserError } from '@roadwatch/shared';
import { addDetectCommand } from './detect.js';
import { addGpsCommand } from './gps.js';
import type { CliIo } from './io.js';
import { queueCommand } from './queue.js';
import { replayCommand } from './replay.js';
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
    .description('append events from a JSONL file (one event per line, without eventId/seq) to the outbox')
    .requiredOption('--events <file>', 'the JSONL file')
    .option('--json', 'print the result as JSON')
    .action(async (_opts, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ events: string; config?: string; json?: boolean }>();
      setExitCode(await replayCommand(opts, io));
    });

  program
    .command('queue')
    .description('show what waits in the outbox: depth, bytes, oldest unsynced age, last ack, evictions')
    .option('--json', 'print as JSON')
    .action(async (_opts, cmd: Command) => {
      setExitCode(await queueCommand(cmd.optsWithGlobals<{ config?: string; json?: boolean }>(), io));
    });

  program
    .command('run')
    .description('run the agent service (outbox and uplink; the camera pipeline when configured)')
    .action(async (_opts, cmd: Command) => {
      setExitCode(await runCommand(cmd.optsWithGlobals<{ config?: string }>(), io, deps.loadCreateAgent));
    });

  addDetectCommand(program, io, setExitCode);
  addGpsCommand(program, io, setExitCode);

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
