import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { BUILD_FLOOR_MS } from '../clock/build-floor.js';
import { ClockPolicy } from '../clock/clock-policy.js';
import { ControlClient } from '../control/client.js';
import { checkCamera } from './camera-check.js';
import { checkClock } from './clock-check.js';
import { checkConfig, checkService } from './config-check.js';
import { checkGps } from './gps-check.js';
import { checkHub } from './hub-check.js';
import { checkModel } from './model-check.js';
import { checkDisk, checkOutbox } from './outbox-check.js';
import { fail, type CheckResult, type CheckStatus, type DoctorContext, type DoctorReport, type Outcome } from './types.js';
import { raceTimer } from '../util/race-timer.js';

export const CHECK_GROUPS = ['camera', 'gps', 'clock', 'model', 'outbox', 'disk', 'hub'] as const;
export type CheckGroup = (typeof CHECK_GROUPS)[number];

export const TITLES: Record<string, string> = {
  config: 'configuration',
  service: 'roadwatch service',
  camera: 'camera',
  gps: 'GPS receiver',
  clock: 'system clock',
  model: 'detection model',
  outbox: 'outbox (SQLite)',
  disk: 'disk and buffer',
  'hub.dns': 'hub: DNS',
  'hub.tcp': 'hub: TCP connect',
  'hub.tls': 'hub: TLS',
  'hub.mqtt': 'hub: MQTT login',
  'hub.roundtrip': 'hub: round trip',
};

export interface DoctorOptions {
  config?: string;
  env: NodeJS.ProcessEnv;
  /** Wall clock (injected: tests set it to 1970). */
  wall: () => number;
  mono?: () => number;
  logger: Logger;
  /** Per-check time limit (default 10 s). */
  timeoutMs?: number;
  /** How long to listen to the GPS receiver (default 5 s, within the time limit). */
  gpsSeconds?: number;
  /** Run only these groups (config and service always run). */
  only?: readonly CheckGroup[];
}

/**
 * `roadwatch doctor`: every check a technician needs, each pass/warn/fail with a one-line fix.
 * Never throws for a missing part (no camera, no network, no udevadm): each check reports it, and each
 * runs under a time limit. Checks that can wait together (GPS listening, the network, SQLite) run at
 * once; the camera and then the model run alone so their timings are not disturbed.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const mono = options.mono ?? (() => performance.now());
  const wanted = (g: CheckGroup) => !options.only || options.only.includes(g);
  const results = new Map<string, CheckResult>();
  const record = (outcome: Outcome, ms: number) => results.set(outcome.id, { id: outcome.id, title: outcome.title ?? TITLES[outcome.id] ?? outcome.id, status: outcome.status, detail: outcome.detail, hint: outcome.hint, durationMs: Math.round(outcome.durationMs ?? ms), ...(outcome.data ? { data: outcome.data } : {}) });

  let t0 = mono();
  const loaded = checkConfig(options.config, options.env);
  record(loaded.outcome, mono() - t0);
  const client = loaded.field ? ControlClient.forConfig(loaded.field, Math.min(timeoutMs, 5_000)) : null;
  t0 = mono();
  const service = await checkService(client);
  record(service.outcome, mono() - t0);

  const ctx: DoctorContext = {
    config: loaded.config,
    field: loaded.field,
    service: service.status,
    client,
    wall: options.wall,
    mono,
    timeoutMs,
    gpsSeconds: options.gpsSeconds ?? 5,
    logger: options.logger,
    frame: null,
    gpsClock: new ClockPolicy({ wall: options.wall, mono, floorMs: BUILD_FLOOR_MS }),
    outbox: null,
  };

  /** Runs one group under a time limit (a little over it: the checks keep their own and clean up first). */
  const run = async (ids: string[], check: () => Promise<Outcome | Outcome[]>, limitMs = timeoutMs + 5_000) => {
    const started = mono();
    let outcomes: Outcome[];
    try {
      const got = await raceTimer<Outcome | Outcome[]>(check(), limitMs, () =>
        ids.map((id) => fail(id, `no result within ${Math.round(limitMs / 1000)} s`, 'run roadwatch doctor --timeout 30, or check this part on its own')),
      );
      outcomes = Array.isArray(got) ? got : [got];
    } catch (error) {
      outcomes = ids.map((id) => fail(id, `the check itself failed: ${(error as Error).message}`, 'report this with the output of roadwatch doctor --json'));
    }
    const ms = mono() - started;
    for (const outcome of outcomes) record(outcome, outcomes.length > 1 ? (outcome.durationMs ?? ms) : ms);
  };

  const hubIds = ['hub.dns', 'hub.tcp', 'hub.tls', 'hub.mqtt', 'hub.roundtrip'];
  await Promise.all([
    wanted('gps') || wanted('clock') ? run(['gps'], () => checkGps(ctx)) : null,
    wanted('hub') ? run(hubIds, () => checkHub(ctx), timeoutMs * 5 + 5_000) : null,
    wanted('outbox') || wanted('disk')
      ? run(['outbox'], () => checkOutbox(ctx), timeoutMs * 6).then(() => (wanted('disk') ? run(['disk'], () => checkDisk(ctx)) : undefined))
      : null,
  ]);
  if (wanted('camera')) await run(['camera'], () => checkCamera(ctx));
  if (wanted('model')) await run(['model'], () => checkModel(ctx), timeoutMs * 3);
  if (wanted('clock')) await run(['clock'], async () => checkClock(ctx));

  const order = ['config', 'service', 'camera', 'gps', 'clock', 'model', 'outbox', 'disk', ...hubIds];
  const group = (id: string) => (id.startsWith('hub.') ? 'hub' : id) as CheckGroup;
  const checks = order.filter((id) => results.has(id) && (id === 'config' || id === 'service' || wanted(group(id)))).map((id) => results.get(id)!);
  const summary: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) summary[c.status] += 1;
  const exitCode = summary.fail > 0 ? 2 : summary.warn > 0 ? 1 : 0;
  return { v: 1, exitCode, ok: exitCode === 0, deviceId: loaded.field?.deviceId ?? null, at: new Date(options.wall()).toISOString(), summary, checks };
}
