import { UserError } from '@roadwatch/shared';
import { Command, CommanderError } from 'commander';
import { aggregatesRebuild } from './aggregates.js';
import { brokerPasswd } from './broker.js';
import { commandLogger, loadHubConfig } from './config.js';
import { devicesAdd, devicesList, devicesRevoke, devicesRotateSecret } from './devices.js';
import { processIo, type CliIo } from './io.js';
import { migrate } from './migrate.js';
import { serve, type ServeProcess } from './serve.js';
import { tokensCreate, tokensList, tokensRevoke } from './tokens.js';

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
  const passwdOption = ['--mosquitto-passwd <file>', 'also write the device id and secret to this Mosquitto password file (scale-out mode, docs/SCALE-OUT.md)'] as const;

  program
    .command('serve')
    .description('run the hub: embedded MQTT broker (or an external one: ROADWATCH_HUB_MQTT_URL), HTTP API, database (PGlite unless DATABASE_URL is set)')
    .option(...configOption)
    .action(async (opts: { config?: string }) => {
      exitCode = await serve(loadHubConfig(opts.config, io), proc);
    });

  program
    .command('migrate')
    .description('apply the database migrations and exit')
    .option('--json', 'print {"ok","database","migrations"} as JSON')
    .option(...configOption)
    .action(async (opts: { config?: string; json?: boolean }) => {
      exitCode = await migrate(loadHubConfig(opts.config, io), io, commandLogger(io), opts);
    });

  const devices = program.command('devices').description('manage the vehicles allowed to connect');
  devices
    .command('add <deviceId>')
    .description('register a device and print its secret (shown once)')
    .option('--rotate', 'issue a new secret for an existing device (the old one stops working)')
    .option(...passwdOption)
    .option('--json', 'print {"deviceId","secret"} as JSON')
    .option(...configOption)
    .action(async (deviceId: string, opts: { rotate?: boolean; json?: boolean; config?: string; mosquittoPasswd?: string }) => {
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

  devices
    .command('rotate-secret <deviceId>')
    .description('issue a new secret for a registered device and print it (shown once); the old one stops working')
    .option(...passwdOption)
    .option('--json', 'print {"deviceId","secret"} as JSON')
    .option(...configOption)
    .action(async (deviceId: string, opts: { json?: boolean; config?: string; mosquittoPasswd?: string }) => {
      exitCode = await devicesRotateSecret(deviceId, opts, loadHubConfig(opts.config, io), io, commandLogger(io));
    });
  devices
    .command('revoke <deviceId>')
    .description('stop a device from logging in (its secret is replaced by one nobody holds); its events stay')
    .option('--mosquitto-passwd <file>', 'also remove the device from this Mosquitto password file (scale-out mode)')
    .option('--json', 'print {"deviceId","revoked","state"} as JSON')
    .option(...configOption)
    .action(async (deviceId: string, opts: { json?: boolean; config?: string; mosquittoPasswd?: string }) => {
      exitCode = await devicesRevoke(deviceId, opts, loadHubConfig(opts.config, io), io, commandLogger(io));
    });

  const broker = program.command('broker').description('credentials on an external MQTT broker (scale-out mode, docs/SCALE-OUT.md)');
  broker
    .command('passwd <file> <username>')
    .description('set a new random password for a user of a Mosquitto password file and print it (shown once): the hub replicas\' user')
    .option('--delete', 'remove the user from the file instead')
    .option('--json', 'print {"username","password","file","change","created"} as JSON')
    .action((file: string, username: string, opts: { delete?: boolean; json?: boolean }) => {
      exitCode = brokerPasswd(file, username, opts, io);
    });

  const tokens = program.command('tokens').description('manage the API tokens of the REST API (docs/API-ACCESS.md)');
  tokens
    .command('create')
    .description('issue an API token and print it (shown once; only its hash is kept)')
    .requiredOption('--name <name>', 'who or what uses it, unique (letters, digits, ".", "_", "-")')
    .requiredOption('--scope <scope>', 'read (GET), ack (also acknowledge and clear alarms) or admin (everything)')
    .option('--json', 'print {"id","name","scope","prefix","token","createdAt",…} as JSON')
    .option(...configOption)
    .action(async (opts: { name: string; scope: string; json?: boolean; config?: string }) => {
      exitCode = await tokensCreate(opts, loadHubConfig(opts.config, io), io, commandLogger(io));
    });
  tokens
    .command('list')
    .description('list API tokens: name, scope, prefix, created, last used, revoked (never the tokens)')
    .option('--json', 'print a JSON array')
    .option(...configOption)
    .action(async (opts: { json?: boolean; config?: string }) => {
      exitCode = await tokensList(opts, loadHubConfig(opts.config, io), io, commandLogger(io));
    });
  tokens
    .command('revoke <name>')
    .description('revoke an API token by name (or id): it stops working at once')
    .option('--json', 'print the revoked token\'s summary as JSON')
    .option(...configOption)
    .action(async (name: string, opts: { json?: boolean; config?: string }) => {
      exitCode = await tokensRevoke(name, opts, loadHubConfig(opts.config, io), io, commandLogger(io));
    });

  const aggregates = program.command('aggregates').description('maintain the hourly rollups (aggregates)');
  aggregates
    .command('rebuild')
    .description('recompute the rollups of a time range from the stored detections (idempotent)')
    .option('--from <time>', 'first hour, ISO 8601 (rounded down to the hour; default: the beginning)')
    .option('--to <time>', 'end, exclusive, ISO 8601 (rounded up to the hour; default: the end)')
    .option('--json', 'print the report as JSON')
    .option(...configOption)
    .action(async (opts: { from?: string; to?: string; json?: boolean; config?: string }) => {
      exitCode = await aggregatesRebuild(opts, loadHubConfig(opts.config, io), io, commandLogger(io));
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
