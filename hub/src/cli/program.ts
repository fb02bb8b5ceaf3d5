import { UserError } from '@roadwatch/shared';
import { Command, CommanderError } from 'commander';
import { commandLogger, loadHubConfig } from './config.js';
import { devicesAdd, devicesList } from './devices.js';
import { processIo, type CliIo } from './io.js';
import { migrate } from './migrate.js';
import { serve, type ServeProcess } from './serve.js';

export interface RunCliOptions {
  io?: CliIo;
  proc?: ServeProcess;
}

/** Runs `roadwatch-hub` with node-style argv (argv[0] node, argv[1] script) and resolves the exit code. */
export async function runCli(argv: string[], { io = processIo(), proc = process }: RunCliOptions = {}): Promise<number> {
  let exitCode = 0;
  const program = new Command('roadwatch-hub')
    .description('roadwatch hub: MQTT ingest from vehicles, Postgres, REST API and operator tools')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run roadwatch-hub --help for usage)');

  const configOption = ['--config <file>', 'JSON config file (environment variables override it)'] as const;

  program
    .command('serve')
    .description('run the hub: embedded MQTT broker, HTTP API, database (PGlite unless DATABASE_URL is set)')
    .option(...configOption)
    .action(async (opts: { config?: string }) => {
      exitCode = await serve(loadHubConfig(opts.config, io), proc);
    });

  program
    .command('migrate')
    .description('apply the database migrations and exit')
    .option(...configOption)
    .action(async (opts: { config?: string }) => {
      exitCode = await migrate(loadHubConfig(opts.config, io), io, commandLogger(io));
    });

  const devices = program.command('devices').description('manage the vehicles allowed to connect');
  devices
    .command('add <deviceId>')
    .description('register a device and print its secret (shown once)')
    .option('--rotate', 'issue a new secret for an existing device (the old one stops working)')
    .option('--json', 'print {"deviceId","secret"} as JSON')
    .option(...configOption)
    .action(async (deviceId: string, opts: { rotate?: boolean; json?: boolean; config?: string }) => {
      exitCode = await devicesAdd(deviceId, opts, loadHubConfig(opts.config, io), io, commandLogger(io));
    });
  devices
    .command('list')
    .description('list registered devices and their last known state')
    .option('--json', 'print a JSON array')
    .option(...configOption)
    .action(async (opts: { json?: boolean; config?: string }) => {
      exitCode = await devicesList(opts, loadHubConfig(opts.config, io), io, commandLogger(io));
    });

  try {
    await program.parseAsync(argv, { from: 'node' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof UserError) {
      io.stderr(`roadwatch-hub: ${error.message}\n`);
      return 2;
    }
    io.stderr(`roadwatch-hub: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
