import { InvalidArgumentError, type Command } from 'commander';
import { UserError } from '@roadwatch/shared';
import type { SyncReport } from '../control/api.js';
import { ControlClient } from '../control/client.js';
import { MAX_SYNC_WAIT_MS } from '../control/server.js';
import { loadFieldConfig } from './config.js';
import type { CliIo } from './io.js';

export interface SyncOptions {
  config?: string;
  now?: boolean;
  wait?: number;
  json?: boolean;
}

/** Registers `roadwatch sync` (called from program.ts). */
export function addSyncCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command('sync')
    .description('make the running service send what waits in the outbox now (it reconnects at once if it was waiting to retry)')
    .option('--now', 'sync now (the only mode: the service syncs by itself all the time)')
    .option('--wait <seconds>', 'wait up to this long for the hub’s acks (default 30; 0 returns at once)', parseSeconds)
    .option('--json', 'print the service’s answer as JSON')
    .addHelpText('after', '\nExit code: 0 the outbox is empty, 1 events still wait (the message says why), 2 the service is not running.')
    .action(async (_opts, cmd: Command) => {
      setExitCode(await syncCommand(cmd.optsWithGlobals<SyncOptions>(), io));
    });
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n * 1000 > MAX_SYNC_WAIT_MS) throw new InvalidArgumentError(`must be a number of seconds from 0 to ${MAX_SYNC_WAIT_MS / 1000}`);
  return n;
}

export async function syncCommand(options: SyncOptions, io: CliIo): Promise<number> {
  if (!options.now) throw new UserError('roadwatch sync needs --now', 'the service syncs by itself whenever the hub is reachable; --now makes it try at once');
  const client = ControlClient.forConfig(loadFieldConfig(options.config, io.env));
  const waitMs = Math.round((options.wait ?? 30) * 1000);
  const report = await client.json<SyncReport>('POST', `/sync?waitMs=${waitMs}`, { timeoutMs: waitMs + 10_000 });
  io.stdout.write(options.json ? `${JSON.stringify(report)}\n` : `${formatSync(report)}\n`);
  return report.done ? 0 : 1;
}

const WHAT: Record<SyncReport['action'], string> = {
  sending: 'the service started sending at once',
  'awaiting-acks': 'everything was already sent; the service is waiting for the hub’s acks',
  'up-to-date': 'nothing was waiting',
  reconnecting: 'the uplink was waiting to retry the hub; it reconnected at once',
  connecting: 'the uplink was already connecting to the hub',
  stopped: 'the uplink is stopped (the service is shutting down)',
};

export function formatSync(r: SyncReport): string {
  const lines = [`${WHAT[r.action]}.`];
  if (r.batchesSent > 0 || r.eventsSettled > 0) {
    lines.push(`${r.batchesSent} batch${r.batchesSent === 1 ? '' : 'es'} sent, ${r.eventsSettled.toLocaleString('en-US')} events acked by the hub in ${(r.waitedMs / 1000).toFixed(1)} s.`);
  }
  if (r.done) lines.push(r.queueDepthBefore > 0 ? 'The outbox is empty: everything reached the hub.' : 'The outbox is empty.');
  else {
    const why = r.state === 'online' ? `${r.inFlight} batch${r.inFlight === 1 ? '' : 'es'} still await an ack` : `uplink ${r.state}${r.lastError ? `: ${r.lastError}` : ''}`;
    lines.push(`${r.queueDepth.toLocaleString('en-US')} events still wait (${why}) — the service keeps trying; roadwatch doctor checks the way to the hub.`);
  }
  return lines.join('\n');
}
