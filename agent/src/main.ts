import { mkdirSync, readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { UserError, type DetectorStatus } from '@roadwatch/shared';
import type { AgentConfig } from './config/schema.js';
import type { Outbox } from './outbox/outbox.js';
import { SqliteOutbox } from './outbox/sqlite-outbox.js';
import { MqttUplink, type MqttConnect } from './uplink/mqtt-uplink.js';
import type { SensorReport } from './uplink/status.js';
import { createCamera } from './camera/index.js';
import type { FrameSource } from './camera/frame-source.js';
import { BUILD_FLOOR_MS } from './clock/build-floor.js';
import { ClockPolicy } from './clock/clock-policy.js';
import { timesyncdProbe } from './clock/ntp-probe.js';
import { createOnnxDetector } from './detect/index.js';
import type { Detector } from './detect/detector.js';
import { Fusion } from './fusion/index.js';
import { createGpsSource } from './gps/create-gps-source.js';
import type { GpsSource } from './gps/gps-source.js';
import { LiveSensing } from './pipeline/live-sensing.js';
import { modelStamp } from './pipeline/model-stamp.js';
import { OutboxWriter } from './pipeline/outbox-writer.js';
import { AgentControl } from './control/agent-control.js';
import { registerAgentMetrics } from './control/agent-metrics.js';
import { ControlInUseError } from './control/server.js';

export interface AgentDeps {
  logger: Logger;
  clock?: () => number;
  /** Prometheus registry for the uplink's and the pipeline's metrics (served on the control endpoint's /metrics). */
  registry?: Registry;
  /** Replaces mqtt.connect (tests, fault injection). */
  mqttConnect?: MqttConnect;
  /** Replace the devices the camera config names (tests); defaults build them from the config. */
  camera?: FrameSource;
  gps?: GpsSource;
  detector?: Detector;
  /** Monotonic clock for GPS time keeping (performance.now). */
  mono?: () => number;
}

export interface Agent {
  start(): Promise<void>;
  stop(): Promise<void>;
  outbox: Outbox;
  uplink: MqttUplink;
  /** The camera pipeline while it runs (null without a camera config, or before start). */
  sensing(): LiveSensing | null;
  /** The local control endpoint (`roadwatch status`, `sync --now`, `gps --watch`, `doctor`). */
  control: AgentControl;
}

/** How often the outbox age cap is applied while nothing is appended (a depot box only drains). */
const CAPS_INTERVAL_MS = 60_000;

/**
 * Composition root of the agent service. No singletons: everything is built here from the config.
 *
 * Start order: data dir → outbox (open, apply caps) → uplink (connects in the background; the agent
 * runs offline) → with a camera: detector (loads the model in its worker) → GPS → camera → control
 * endpoint. Stop in reverse: control endpoint → camera (no new frames) → frames in detection drained
 * and open tracks written as events → GPS → detector → uplink (waits briefly for in-flight acks,
 * publishes `offline`) → outbox (close).
 *
 * The control endpoint failing to open (a socket path it may not write) is logged and the service
 * runs without it; another service answering on the same socket stops this one from starting.
 *
 * A sensing fault (model missing, camera or GPS absent) does not stop the service: the outbox keeps
 * syncing and the status payload names the fault and its fix.
 */
export function createAgent(config: AgentConfig, deps: AgentDeps): Agent {
  const clock = deps.clock ?? Date.now;
  const mono = deps.mono ?? (() => performance.now());
  const registry = deps.registry ?? new Registry();
  const log = deps.logger.child({ module: 'agent' });
  ensureDataDir(config.dataDir);
  const outbox = SqliteOutbox.forConfig(config, { logger: deps.logger, clock });
  let live: LiveSensing | null = null;
  let detector: Detector | null = null;
  let sensingFault: string | null = null;
  const sensors = (): SensorReport | undefined => {
    if (live) return live.report();
    if (sensingFault) return { sensors: { detector: 'fault' }, faults: [sensingFault] };
    return undefined;
  };
  const version = agentVersion();
  // The status reads the detector's figures where `roadwatch status` does (the control endpoint's fps window).
  const detectorStatus = (): DetectorStatus | undefined => control.detectorStatus();
  const uplink = new MqttUplink({ config, outbox, logger: deps.logger, clock, mono, registry, mqttConnect: deps.mqttConnect, agentVersion: version, sensors, detector: detectorStatus });
  const clockPolicy = new ClockPolicy({ wall: clock, mono, floorMs: BUILD_FLOOR_MS, ntpSynced: timesyncdProbe() });
  const control = new AgentControl({ config, outbox, uplink, sensing: () => live, sensingFault: () => sensingFault, clock: clockPolicy, registry, logger: deps.logger, wall: clock, mono, version: version ?? null });
  const metrics = registerAgentMetrics(registry, () => control.readings());
  const writer = new OutboxWriter(outbox, () => uplink.notify(), deps.logger.child({ module: 'outbox-writer' }));
  let capsTimer: NodeJS.Timeout | undefined;
  let running = false;

  const startSensing = async (camera: NonNullable<AgentConfig['camera']>) => {
    try {
      detector = deps.detector ?? (await createOnnxDetector(config.detector, { logger: deps.logger }));
    } catch (error) {
      sensingFault = `detector: ${(error as Error).message}`;
      log.error({ err: error }, 'the detector cannot start: the camera pipeline is off, the outbox keeps syncing');
      return;
    }
    live = new LiveSensing({
      camera: deps.camera ?? createCamera(camera, { logger: deps.logger }),
      gps: deps.gps ?? createGpsSource(config.gps, { logger: deps.logger }),
      detector,
      fusion: new Fusion({ camera: camera.mount, model: modelStamp(detector.info) }),
      clock: clockPolicy,
      emit: writer.write,
      logger: deps.logger,
      onDetected: metrics.observe,
    });
    await live.start();
  };

  const startControl = async () => {
    try {
      await control.start();
    } catch (error) {
      if (error instanceof ControlInUseError) throw error;
      log.error({ err: error }, `the control endpoint is off (roadwatch status and doctor cannot reach the service): ${(error as Error).message}`);
    }
  };

  return {
    outbox,
    uplink,
    control,
    async start() {
      if (running) return;
      running = true;
      outbox.enforceCaps(clock());
      capsTimer = setInterval(() => {
        try {
          outbox.enforceCaps(clock());
        } catch (error) {
          log.error({ err: error }, 'applying the outbox caps failed; retrying in a minute');
        }
      }, CAPS_INTERVAL_MS);
      if (config.camera === null) log.info('no camera configured: running outbox and uplink only');
      try {
        await uplink.start();
        if (config.camera !== null) await startSensing(config.camera);
        await startControl();
      } catch (error) {
        clearInterval(capsTimer);
        running = false;
        await control.stop().catch(() => undefined);
        await live?.stop().catch(() => undefined);
        await uplink.stop().catch(() => undefined);
        throw error;
      }
      const stats = outbox.stats();
      log.info({ deviceId: config.deviceId, dataDir: config.dataDir, queueDepth: stats.depth }, 'agent started');
    },
    sensing: () => live,
    async stop() {
      clearInterval(capsTimer);
      await control.stop().catch((error: unknown) => log.error({ err: error }, 'stopping the control endpoint failed'));
      try {
        try {
          await live?.stop();
        } finally {
          live = null;
          await detector?.close();
          detector = null;
          writer.close();
        }
      } catch (error) {
        log.error({ err: error }, 'stopping the camera pipeline failed');
      }
      try {
        await uplink.stop();
      } finally {
        outbox.close();
        running = false;
        log.info('agent stopped');
      }
    },
  };
}

function ensureDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (error) {
    throw new UserError(`cannot create data dir ${dataDir}: ${(error as Error).message}`, 'set ROADWATCH_DATA to a directory the service user may write to');
  }
}

/** The agent package version (package.json sits one level above both src/ and dist/). */
function agentVersion(): string | undefined {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}
