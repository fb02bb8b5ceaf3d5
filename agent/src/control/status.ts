import type { DetectorStatus } from '@roadwatch/shared';
import type { CameraStatus } from '../camera/frame-source.js';
import type { ClockState } from '../clock/clock-policy.js';
import type { DetectorInfo, LatencySummary } from '../detect/detector.js';
import type { FusionStats } from '../fusion/index.js';
import type { GpsStatus } from '../gps/gps-source.js';
import type { OutboxStats } from '../outbox/outbox.js';
import type { SensingStats } from '../pipeline/sensing.js';
import type { UplinkSnapshot } from '../uplink/mqtt-uplink.js';
import type { SensorReport } from '../uplink/status.js';

/** `GET /health`: ok → 200, else 503. `reasons` are what makes it unhealthy; `warnings` do not. */
export interface HealthReport {
  ok: boolean;
  reasons: string[];
  warnings: string[];
}

export interface CameraSection {
  name: string;
  state: CameraStatus['state'];
  message: string;
  /** Frames a second ffmpeg delivered, measured over the last `fpsWindowS` seconds (null until two samples). */
  fps: number | null;
  fpsWindowS: number;
  configuredFps: number;
  width: number;
  height: number;
  framesIn: number;
  framesDropped: number;
  restarts: number;
  decodeErrors: number;
  lastError: string | null;
  lastFrameAgeMs: number | null;
}

export interface DetectorSection {
  state: 'ok' | 'fault';
  /** Why the detector is off (the model cannot be loaded); null when it runs. */
  fault: string | null;
  model: string | null;
  provider: string | null;
  threads: number | null;
  latency: LatencySummary | null;
  /** Frames detected a second over the last `fpsWindowS` of the camera (null until two samples). */
  fps: number | null;
  framesSubmitted: number;
  framesDetected: number;
  framesFailed: number;
  inFlight: number;
  lastError: string | null;
}

export interface GpsSection {
  name: string;
  state: GpsStatus['state'];
  message: string;
  lastFixAt: string | null;
  lastFixAgeMs: number | null;
  mode: number | null;
  lat: number | null;
  lon: number | null;
  sats: number | null;
  hdop: number | null;
  speedKmh: number | null;
  sentences: number;
  checksumErrors: number;
  badLines: number;
  reopenCount: number;
  lastError: string | null;
}

export type FusionSection = FusionStats & Pick<SensingStats, 'framesIn' | 'framesWithoutTime' | 'fixesIn' | 'fixesUnusable'>;

export interface OutboxSection {
  depth: number;
  bytes: number;
  maxBytes: number;
  newestSeq: number | null;
  oldestCreatedAt: string | null;
  oldestUnsyncedAgeS: number | null;
  lastAckAt: string | null;
  evictedTotal: number;
  /** Set when the outbox could not be read. */
  error?: string;
}

export interface UplinkSection {
  state: UplinkSnapshot['state'];
  hubUrl: string;
  inFlight: number;
  lastAckAt: string | null;
  lastError: string | null;
  connects: number;
  connectFailures: number;
  authFailures: number;
  batchesSent: number;
  batchesAcked: number;
  eventsSettled: number;
  ackTimeouts: number;
}

/** `GET /status`: everything a technician asks about the running service. */
export interface AgentStatus {
  v: 1;
  /** Wall clock of the service, ISO. */
  ts: string;
  agent: { version: string | null; deviceId: string; pid: number; startedAt: string; uptimeS: number; dataDir: string };
  health: HealthReport;
  /** Null without a camera config (the service then only syncs). */
  camera: CameraSection | null;
  detector: DetectorSection | null;
  gps: GpsSection | null;
  clock: ClockState & { wall: string };
  fusion: FusionSection | null;
  outbox: OutboxSection;
  uplink: UplinkSection;
  /** The sensor states and faults as the retained MQTT status carries them. */
  sensors: SensorReport | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const round = (n: number | null, digits: number): number | null => (n === null ? null : Math.round(n * 10 ** digits) / 10 ** digits);

export function cameraSection(name: string, status: CameraStatus, fps: number | null, fpsWindowS: number, config: { fps: number; width: number; height: number }): CameraSection {
  return {
    name,
    state: status.state,
    message: status.message,
    fps: round(fps, 2),
    fpsWindowS: Math.round(fpsWindowS),
    configuredFps: config.fps,
    width: config.width,
    height: config.height,
    framesIn: status.framesIn,
    framesDropped: status.framesDropped,
    restarts: status.restarts,
    decodeErrors: status.decodeErrors,
    lastError: status.lastError,
    lastFrameAgeMs: status.lastFrameAgeMs === null ? null : Math.round(status.lastFrameAgeMs),
  };
}

/** The detector's figures the retained MQTT status carries: the same p95 and fps as `/status` shows. */
export function detectorStatus(latency: LatencySummary, fps: number | null): DetectorStatus {
  return { p95Ms: round(latency.p95Ms, 1), fps: round(fps, 2) };
}

export function detectorSection(info: DetectorInfo | null, latency: LatencySummary | null, sensing: SensingStats | null, fault: string | null, fps: number | null = null): DetectorSection {
  const detect = sensing?.detect;
  return {
    state: fault ? 'fault' : 'ok',
    fault,
    model: info?.model ?? null,
    provider: info?.provider ?? null,
    threads: info?.threads ?? null,
    latency: latency ? { ...latency, p50Ms: round(latency.p50Ms, 1), p95Ms: round(latency.p95Ms, 1) } : null,
    fps: round(fps, 2),
    framesSubmitted: detect?.submitted ?? 0,
    framesDetected: detect?.detected ?? 0,
    framesFailed: detect?.failed ?? 0,
    inFlight: detect?.inFlight ?? 0,
    lastError: detect?.lastError ?? null,
  };
}

export function gpsSection(name: string, status: GpsStatus): GpsSection {
  const fix = status.lastFix;
  return {
    name,
    state: status.state,
    message: status.message,
    lastFixAt: status.lastFixAt,
    lastFixAgeMs: status.lastFixAgeMs === null ? null : Math.round(status.lastFixAgeMs),
    mode: fix?.mode ?? null,
    lat: fix?.lat ?? null,
    lon: fix?.lon ?? null,
    sats: fix?.sats ?? null,
    hdop: fix?.hdop ?? null,
    speedKmh: fix?.speedKmh ?? null,
    sentences: status.sentences,
    checksumErrors: status.checksumErrors,
    badLines: status.badLines,
    reopenCount: status.reopenCount,
    lastError: status.lastError,
  };
}

export function outboxSection(stats: OutboxStats, maxBytes: number, now: number): OutboxSection {
  return {
    depth: stats.depth,
    bytes: stats.bytes,
    maxBytes,
    newestSeq: stats.newestSeq,
    oldestCreatedAt: iso(stats.oldestCreatedAt),
    oldestUnsyncedAgeS: stats.oldestCreatedAt === null ? null : Math.max(0, Math.round((now - stats.oldestCreatedAt) / 1000)),
    lastAckAt: iso(stats.lastAckAt),
    evictedTotal: stats.evictedTotal,
  };
}

export function uplinkSection(snapshot: UplinkSnapshot, hubUrl: string): UplinkSection {
  return {
    state: snapshot.state,
    hubUrl: maskUrl(hubUrl),
    inFlight: snapshot.inFlight,
    lastAckAt: iso(snapshot.lastAckAt),
    lastError: snapshot.lastError,
    connects: snapshot.connects,
    connectFailures: snapshot.connectFailures,
    authFailures: snapshot.authFailures,
    batchesSent: snapshot.batchesSent,
    batchesAcked: snapshot.batchesAcked,
    eventsSettled: snapshot.eventsSettled,
    ackTimeouts: snapshot.ackTimeouts,
  };
}

/** A URL with its password masked (`mqtt://user:***@host`). */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+):[^@/\s]*@/i, '$1:***@');
}

/** MQTT errors that mean the hub refused the device's credentials (CONNACK 4 or 5). */
export const AUTH_ERROR = /not authori[sz]ed|bad user ?name or password/i;

/**
 * Unhealthy (503): a sensor in fault, the detector off, the outbox unreadable, the hub refusing the
 * credentials (that never heals by itself). A vehicle out of coverage is normal: the uplink being
 * offline is only a warning.
 */
export function healthOf(status: Pick<AgentStatus, 'sensors' | 'detector' | 'outbox' | 'uplink'>): HealthReport {
  const reasons: string[] = [];
  const warnings: string[] = [];
  const faults = status.sensors?.faults ?? [];
  for (const [sensor, state] of Object.entries(status.sensors?.sensors ?? {})) {
    const line = faults.find((f) => f.startsWith(`${sensor}:`)) ?? `${sensor}: ${state}`;
    if (state === 'fault') reasons.push(line);
    else if (state === 'degraded') warnings.push(line);
  }
  if (status.detector?.fault && !reasons.some((r) => r.startsWith('detector:'))) reasons.push(`detector: ${status.detector.fault}`);
  if (status.outbox.error) reasons.push(`outbox: ${status.outbox.error}`);
  const { uplink } = status;
  if (uplink.state !== 'online') {
    if (uplink.lastError && AUTH_ERROR.test(uplink.lastError)) reasons.push(`uplink: the hub refuses the device credentials (${uplink.lastError}) — check ROADWATCH_DEVICE_SECRET or re-issue with roadwatch-hub devices add`);
    else warnings.push(`uplink: ${uplink.state}${uplink.lastError ? ` (${uplink.lastError})` : ''} — events wait in the outbox until the hub is reachable`);
  }
  return { ok: reasons.length === 0, reasons, warnings };
}
