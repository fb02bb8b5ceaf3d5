import type { DetectorStatus } from '@roadwatch/shared';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ClockPolicy } from '../clock/clock-policy.js';
import type { AgentConfig } from '../config/schema.js';
import type { Outbox, OutboxStats } from '../outbox/outbox.js';
import type { LiveSensing } from '../pipeline/live-sensing.js';
import type { MqttUplink } from '../uplink/mqtt-uplink.js';
import type { ControlApi, LastFrame, SyncReport } from './api.js';
import type { MetricsReadings } from './agent-metrics.js';
import { controlEndpoint } from './endpoint.js';
import { RateWindow } from './rate-window.js';
import { ControlServer } from './server.js';
import { cameraSection, detectorSection, detectorStatus, gpsSection, healthOf, outboxSection, uplinkSection, type AgentStatus, type OutboxSection } from './status.js';

/** The service's parts the control endpoint reads (createAgent passes them). */
export interface AgentParts {
  config: AgentConfig;
  outbox: Outbox;
  uplink: MqttUplink;
  sensing: () => LiveSensing | null;
  /** Why the camera pipeline is off (the model cannot be loaded), else null. */
  sensingFault: () => string | null;
  clock: ClockPolicy;
  registry: Registry;
  logger: Logger;
  wall: () => number;
  mono: () => number;
  version: string | null;
}

/** The fps windows (camera frames in, frames detected): over the last 10 s, sampled once a second. */
const FPS_WINDOW_MS = 10_000;
const SAMPLE_MS = 1_000;
const SYNC_POLL_MS = 50;

/**
 * The control endpoint of the running service: builds `/status`, `/health`, `/metrics`, `/sync`,
 * `/gps/stream` and `/camera/snapshot` answers from the agent's parts, and runs the server.
 */
export class AgentControl implements ControlApi {
  readonly server: ControlServer;
  private readonly fps = new RateWindow(FPS_WINDOW_MS);
  private readonly detectFps = new RateWindow(FPS_WINDOW_MS);
  private sampler: NodeJS.Timeout | undefined;
  private startedAt = 0;

  constructor(private readonly parts: AgentParts) {
    this.server = new ControlServer({ api: this, endpoint: controlEndpoint(parts.config), logger: parts.logger });
  }

  async start(): Promise<void> {
    this.startedAt = this.parts.wall();
    this.fps.reset();
    this.detectFps.reset();
    this.sample();
    this.sampler = setInterval(() => this.sample(), SAMPLE_MS);
    this.sampler.unref();
    await this.server.start();
  }

  async stop(): Promise<void> {
    clearInterval(this.sampler);
    await this.server.stop();
  }

  status(): AgentStatus {
    const { config, uplink, clock } = this.parts;
    const now = this.parts.wall();
    const live = this.parts.sensing();
    const fault = this.parts.sensingFault();
    const sensing = live?.stats() ?? null;
    const outbox = this.outboxSection(now);
    const sensors = live ? live.peekReport() : fault ? { sensors: { detector: 'fault' as const }, faults: [fault] } : null;
    const partial = {
      camera: live && config.camera ? cameraSection(live.camera.name, live.camera.status(), this.fps.rate(), this.fps.spanS(), config.camera) : null,
      detector: live || fault ? detectorSection(live?.detector.info ?? null, live?.detector.latency() ?? null, sensing, fault?.replace(/^detector: /, '') ?? null, live ? this.detectFps.rate() : null) : null,
      gps: live ? gpsSection(live.gps.name, live.gps.status()) : null,
      fusion: live && sensing ? { ...sensing.fusion, framesIn: sensing.framesIn, framesWithoutTime: sensing.framesWithoutTime, fixesIn: sensing.fixesIn, fixesUnusable: sensing.fixesUnusable } : null,
      outbox,
      uplink: uplinkSection(uplink.snapshot(), config.hubUrl),
      sensors,
    };
    return {
      v: 1,
      ts: new Date(now).toISOString(),
      agent: {
        version: this.parts.version,
        deviceId: config.deviceId,
        pid: process.pid,
        startedAt: new Date(this.startedAt).toISOString(),
        uptimeS: Math.max(0, Math.round((now - this.startedAt) / 1000)),
        dataDir: config.dataDir,
      },
      health: healthOf(partial),
      ...partial,
      clock: { ...clock.state(), wall: new Date(now).toISOString() },
    };
  }

  /**
   * For the retained MQTT status: the detector's p95 and frames a second, as `/status` shows them;
   * undefined while no camera pipeline runs (no camera configured, or the model failed to load).
   */
  detectorStatus(): DetectorStatus | undefined {
    const live = this.parts.sensing();
    return live ? detectorStatus(live.detector.latency(), this.detectFps.rate()) : undefined;
  }

  health() {
    return this.status().health;
  }

  async metrics(): Promise<{ contentType: string; body: string }> {
    const { registry } = this.parts;
    return { contentType: registry.contentType, body: await registry.metrics() };
  }

  /** What `registerAgentMetrics` reads at scrape time. */
  readings(): MetricsReadings {
    const live = this.parts.sensing();
    const camera = live?.camera.status();
    const gps = live?.gps.status();
    const sensing = live?.stats();
    let outbox: OutboxStats | null = null;
    try {
      outbox = this.parts.outbox.stats();
    } catch {
      // closed or unreadable: /status says why
    }
    return {
      camera: camera ? { framesIn: camera.framesIn, framesDropped: camera.framesDropped, restarts: camera.restarts, decodeErrors: camera.decodeErrors, fps: this.fps.rate() } : null,
      pipeline: sensing ? { eventsEmitted: sensing.eventsEmitted, framesFailed: sensing.detect.failed } : null,
      gps: gps
        ? { sentences: gps.sentences, checksumErrors: gps.checksumErrors, badLines: gps.badLines, sats: gps.lastFix?.sats ?? null, hdop: gps.lastFix?.hdop ?? null, hasFix: gps.state === 'ok' }
        : null,
      sensors: live ? live.peekReport().sensors : null,
      outbox,
      now: this.parts.wall(),
    };
  }

  async sync(waitMs: number): Promise<SyncReport> {
    const { uplink, outbox } = this.parts;
    const depth = () => {
      try {
        return outbox.stats().depth;
      } catch {
        return 0;
      }
    };
    const before = { ...uplink.snapshot(), depth: depth() };
    const started = performance.now();
    const woke = uplink.syncNow();
    const done = () => depth() === 0 && uplink.snapshot().inFlight === 0;
    if (waitMs > 0 && woke.action !== 'stopped') {
      const deadline = started + waitMs;
      let sawAttempt = woke.action !== 'reconnecting' && woke.action !== 'connecting';
      while (performance.now() < deadline && !done()) {
        await new Promise((resolve) => setTimeout(resolve, SYNC_POLL_MS));
        const state = uplink.snapshot().state;
        if (state === 'connecting' || state === 'online') sawAttempt = true;
        // A connection attempt that failed again: nothing more will happen within the wait.
        if (sawAttempt && state === 'backoff') break;
      }
    }
    const after = uplink.snapshot();
    return {
      action: woke.action,
      state: after.state,
      batchesSent: after.batchesSent - before.batchesSent,
      eventsSettled: after.eventsSettled - before.eventsSettled,
      queueDepthBefore: before.depth,
      queueDepth: depth(),
      inFlight: after.inFlight,
      waitedMs: Math.round(performance.now() - started),
      done: done(),
      lastError: after.lastError,
    };
  }

  gps() {
    return this.parts.sensing()?.gps ?? null;
  }

  lastFrame(): LastFrame {
    if (!this.parts.config.camera) return { frame: null, reason: 'no camera configured: the service only syncs' };
    const live = this.parts.sensing();
    if (!live) return { frame: null, reason: `the camera pipeline is off${this.parts.sensingFault() ? ` (${this.parts.sensingFault()})` : ''}` };
    const frame = live.lastFrame();
    if (!frame) return { frame: null, reason: `no frame yet from ${live.camera.name}: ${live.camera.status().message}` };
    return { frame, ageMs: this.parts.mono() - frame.monoMs };
  }

  private sample(): void {
    const live = this.parts.sensing();
    if (!live) return;
    const mono = this.parts.mono();
    this.fps.sample(mono, live.camera.status().framesIn);
    this.detectFps.sample(mono, live.stats().detect.detected);
  }

  private outboxSection(now: number): OutboxSection {
    const { outbox, config } = this.parts;
    try {
      return outboxSection(outbox.stats(), config.outbox.maxBytes, now);
    } catch (error) {
      const empty = { depth: 0, bytes: 0, oldestCreatedAt: null, newestSeq: null, lastAckAt: null, evictedTotal: 0 };
      return { ...outboxSection(empty, config.outbox.maxBytes, now), error: (error as Error).message };
    }
  }
}
