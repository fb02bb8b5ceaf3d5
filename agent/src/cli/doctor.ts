import { InvalidArgumentError, type Command } from 'commander';
import { formatReport } from '../doctor/format.js';
import { CHECK_GROUPS, runDoctor, type CheckGroup } from '../doctor/run.js';
import { createLogger } from '../logger.js';
import type { CliIo } from './io.js';

export interface DoctorCliOptions {
  config?: string;
  json?: boolean;
  timeout?: number;
  gpsSeconds?: number;
  only?: CheckGroup[];
}

/** Registers `roadwatch doctor` (called from program.ts). */
export function addDoctorCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command('doctor')
    .description('check everything the vehicle needs — config, camera, GPS, clock, model, outbox and disk, the way to the hub — each pass/warn/fail with what to do')
    .option('--json', 'print the report as one JSON document')
    .option('--timeout <seconds>', 'time limit of each check (default 10)', parseSeconds)
    .option('--gps-seconds <seconds>', 'how long to listen to the GPS receiver (default 5)', parseSeconds)
    .option('--only <checks>', `run only these, comma-separated: ${CHECK_GROUPS.join(', ')}`, parseGroups)
    .addHelpText('after', '\nWhen the service runs, the camera, GPS and hub link are read from it (it holds them).\nExit code: 0 all passed, 1 warnings, 2 a check failed.')
    .action(async (_opts, cmd: Command) => {
      setExitCode(await doctorCommand(cmd.optsWithGlobals<DoctorCliOptions>(), io));
    });
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 600) throw new InvalidArgumentError('must be a number of seconds from 0 to 600');
  return n;
}

function parseGroups(value: string): CheckGroup[] {
  const groups = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = groups.filter((g) => !(CHECK_GROUPS as readonly string[]).includes(g));
  if (unknown.length > 0 || groups.length === 0) throw new InvalidArgumentError(`unknown check ${unknown.join(', ')}: choose from ${CHECK_GROUPS.join(', ')}`);
  return groups as CheckGroup[];
}

export async function doctorCommand(options: DoctorCliOptions, io: CliIo): Promise<number> {
  const debug = /^(debug|trace)$/.test(io.env.ROADWATCH_LOG_LEVEL ?? '');
  const logger = createLogger({ level: debug ? (io.env.ROADWATCH_LOG_LEVEL ?? 'debug') : 'silent', destination: io.stderr });
  const timeoutMs = (options.timeout ?? 10) * 1000;
  if (!options.json) io.stderr.write('roadwatch doctor: checking (a few seconds; the GPS is listened to for a while) …\n');
  const report = await runDoctor({
    config: options.config,
    env: io.env,
    wall: io.clock,
    logger,
    timeoutMs,
    gpsSeconds: Math.min(options.gpsSeconds ?? 5, Math.max(1, timeoutMs / 1000 - 1)),
    only: options.only,
  });
  io.stdout.write(options.json ? `${JSON.stringify(report)}\n` : formatReport(report, (io.stdout as { isTTY?: boolean }).isTTY === true));
  return report.exitCode;
}
