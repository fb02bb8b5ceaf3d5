import type { Command } from 'commander';
import { ControlClient } from '../control/client.js';
import type { AgentStatus } from '../control/status.js';
import { loadFieldConfig } from './config.js';
import type { CliIo } from './io.js';
import { formatAge, formatBytes } from './queue.js';

export interface StatusOptions {
  config?: string;
  watch?: boolean;
  json?: boolean;
}

/** Registers `roadwatch status` (called from program.ts). */
export function addStatusCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command('status')
    .description('ask the running service how it is: camera fps and drops, detector latency, GPS fix, clock, outbox, uplink, faults')
    .option('--watch', 'refresh every second until Ctrl-C')
    .option('--json', 'print the control endpoint’s status document (one line per refresh with --watch)')
    .addHelpText('after', '\nExit code: 0 healthy, 1 the service runs with a fault, 2 the service is not running.')
    .action(async (_opts, cmd: Command) => {
      setExitCode(await statusCommand(cmd.optsWithGlobals<StatusOptions>(), io));
    });
}

export async function statusCommand(options: StatusOptions, io: CliIo): Promise<number> {
  const client = ControlClient.forConfig(loadFieldConfig(options.config, io.env));
  const show = async (): Promise<number> => {
    const status = await client.json<AgentStatus>('GET', '/status');
    if (options.json) io.stdout.write(`${JSON.stringify(status)}\n`);
    else io.stdout.write(`${options.watch && isTty(io) ? '\x1b[H\x1b[2J' : ''}${formatStatus(status)}${options.watch && !isTty(io) ? '\n' : ''}`);
    return status.health.ok ? 0 : 1;
  };
  let code = await show();
  if (!options.watch) return code;
  let stop = false;
  let wake: () => void = () => {};
  const interrupt = () => {
    stop = true;
    wake();
  };
  io.signals.on('SIGINT', interrupt);
  io.signals.on('SIGTERM', interrupt);
  try {
    while (!stop) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (!stop) code = await show();
    }
  } finally {
    io.signals.off('SIGINT', interrupt);
    io.signals.off('SIGTERM', interrupt);
  }
  return code;
}

function isTty(io: CliIo): boolean {
  return (io.stdout as { isTTY?: boolean }).isTTY === true;
}

const n = (v: number) => v.toLocaleString('en-US');
const ms = (v: number | null) => (v === null ? '—' : `${Math.round(v)} ms`);

/** The status for a person: one line per part, problems last. */
export function formatStatus(s: AgentStatus): string {
  const now = Date.parse(s.ts);
  const rows: Array<[string, string, string]> = [];
  const { camera, detector, gps, fusion, outbox, uplink, clock } = s;
  if (camera) {
    const fps = camera.fps === null ? 'fps not measured yet' : `${camera.fps.toFixed(1)} fps (last ${camera.fpsWindowS} s; ${camera.configuredFps} configured)`;
    rows.push(['camera', camera.state, `${camera.name} — ${fps}, ${camera.width}×${camera.height}, ${n(camera.framesIn)} frames, ${n(camera.framesDropped)} dropped, ${n(camera.decodeErrors)} decoder errors, ${n(camera.restarts)} restarts`]);
  } else {
    rows.push(['camera', 'none', 'no camera configured: the service only syncs']);
  }
  if (detector) {
    if (detector.fault) rows.push(['detector', 'fault', detector.fault]);
    else {
      const lat = detector.latency;
      rows.push(['detector', 'ok', `${detector.model} on ${detector.provider} ×${detector.threads} — p50 ${ms(lat?.p50Ms ?? null)}, p95 ${ms(lat?.p95Ms ?? null)}, ${detector.fps === null ? 'frames/s not measured yet' : `${detector.fps.toFixed(1)} frames/s`}, ${n(detector.framesDetected)} frames, ${n(detector.framesFailed)} failed`]);
    }
  }
  if (gps) {
    const fix = gps.lat !== null && gps.lon !== null ? `${gps.mode === 3 ? '3D' : '2D'} ${gps.lat.toFixed(7)}, ${gps.lon.toFixed(7)}, ${gps.sats ?? '?'} sats, HDOP ${gps.hdop ?? '?'}` : 'no fix';
    const age = gps.lastFixAgeMs === null ? '' : `, last fix ${(gps.lastFixAgeMs / 1000).toFixed(1)} s ago`;
    rows.push(['gps', gps.state, `${gps.name} — ${fix}${age}, ${n(gps.sentences)} sentences, ${n(gps.checksumErrors)} checksum errors`]);
  }
  rows.push(['clock', clock.clock, clock.reason]);
  if (fusion) {
    rows.push(['fusion', '', `${n(fusion.framesIn)} frames, ${n(fusion.detections)} detections, ${n(fusion.eventsEmitted)} events, ${fusion.tracksOpen} tracks open, ${n(fusion.framesWithoutPosition + fusion.framesWithoutTime)} frames without a position${fusion.stationary ? ', standing still' : ''}`]);
  }
  const oldest = outbox.oldestUnsyncedAgeS === null ? 'nothing unsynced' : `oldest unsynced ${formatAge(outbox.oldestUnsyncedAgeS * 1000)}`;
  const lastAck = outbox.lastAckAt === null ? 'never acked' : `last ack ${formatAge(now - Date.parse(outbox.lastAckAt))} ago`;
  rows.push(['outbox', outbox.error ? 'error' : '', outbox.error ?? `${n(outbox.depth)} events, ${formatBytes(outbox.bytes)} of ${formatBytes(outbox.maxBytes)}, ${oldest}, ${lastAck}, ${n(outbox.evictedTotal)} evicted`]);
  rows.push(['uplink', uplink.state, `${uplink.hubUrl} — ${uplink.inFlight} in flight, ${n(uplink.batchesAcked)} batches acked${uplink.lastError ? `, last error: ${uplink.lastError}` : ''}`]);
  const head = `roadwatch ${s.agent.version ?? '?'} · ${s.agent.deviceId} · up ${formatAge(s.agent.uptimeS * 1000)} · pid ${s.agent.pid} · health ${s.health.ok ? 'ok' : 'FAULT'}`;
  const body = rows.map(([k, state, text]) => `${k.padEnd(9)} ${state.padEnd(9)} ${text}`.replace(/ +$/, ''));
  const problems = [...s.health.reasons.map((r) => `fault: ${r}`), ...s.health.warnings.map((w) => `warn:  ${w}`)];
  const tail = problems.length === 0 ? ['problems  none'] : problems.map((p, i) => `${i === 0 ? 'problems ' : '         '} ${p}`);
  return `${[head, ...body, ...tail].join('\n')}\n`;
}
