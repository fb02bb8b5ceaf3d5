import type { Frame } from '../camera/frame-source.js';
import type { GpsSource } from '../gps/gps-source.js';
import type { SyncNowResult, UplinkState } from '../uplink/mqtt-uplink.js';
import type { AgentStatus, HealthReport } from './status.js';

/** `POST /sync`: what waking the uplink did, and what came of it within `waitMs`. */
export interface SyncReport {
  action: SyncNowResult['action'];
  /** Uplink state at the end. */
  state: UplinkState;
  /** Batches published during the call (the wait included). */
  batchesSent: number;
  /** Events the hub acked (and the outbox removed) during the call. */
  eventsSettled: number;
  queueDepthBefore: number;
  queueDepth: number;
  inFlight: number;
  waitedMs: number;
  /** Nothing waits: the outbox is empty and no batch awaits an ack. */
  done: boolean;
  lastError: string | null;
}

export type LastFrame = { frame: Frame; ageMs: number } | { frame: null; reason: string };

/** What the control endpoint serves; the service implements it from its parts (agent-control.ts). */
export interface ControlApi {
  status(): AgentStatus;
  health(): HealthReport;
  metrics(): Promise<{ contentType: string; body: string }>;
  sync(waitMs: number): Promise<SyncReport>;
  /** The GPS source the service runs, null without one (no camera configured, or the pipeline is off). */
  gps(): GpsSource | null;
  lastFrame(): LastFrame;
}
