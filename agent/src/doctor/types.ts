import type { Logger } from 'pino';
import type { Frame } from '../camera/frame-source.js';
import type { ClockPolicy } from '../clock/clock-policy.js';
import type { AgentConfig } from '../config/schema.js';
import type { FieldConfig } from '../cli/config.js';
import type { AgentStatus } from '../control/status.js';
import type { ControlClient } from '../control/client.js';
import { raceTimer } from '../util/race-timer.js';

/** `skip`: not checked, because an earlier check failed or the part is not used; it never changes the exit code. */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable id: config, service, camera, gps, clock, model, outbox, disk, hub.dns, hub.tcp, hub.tls, hub.mqtt, hub.roundtrip. */
  id: string;
  title: string;
  status: CheckStatus;
  /** What was found, one line (config errors: one line each). */
  detail: string;
  /** What to do, one line; null when there is nothing to do. */
  hint: string | null;
  durationMs: number;
  /** Measured values (fps, latency, satellites, bytes …) for scripts. */
  data?: Record<string, unknown>;
}

export type Outcome = Omit<CheckResult, 'durationMs' | 'title'> & { title?: string; durationMs?: number };

export interface DoctorReport {
  v: 1;
  /** 0 all passed, 1 warnings, 2 a failure. */
  exitCode: 0 | 1 | 2;
  ok: boolean;
  deviceId: string | null;
  at: string;
  summary: Record<CheckStatus, number>;
  checks: CheckResult[];
}

/** What the checks share. Later checks read what earlier ones found (the camera's frame, GPS time). */
export interface DoctorContext {
  /** The full config, null when it is invalid (then `field` may still hold what could be read). */
  config: AgentConfig | null;
  /** The config without credentials (the device checks need no secret); null when even that is invalid. */
  field: FieldConfig | null;
  /** The running service's status, null when it does not run. */
  service: AgentStatus | null;
  client: ControlClient | null;
  wall: () => number;
  mono: () => number;
  /** Per-check time limit. */
  timeoutMs: number;
  /** How long to listen to the GPS receiver. */
  gpsSeconds: number;
  logger: Logger;
  /** A frame the camera check grabbed: the model check runs on it. */
  frame: Frame | null;
  /** Fed with the GPS check's fixes: the clock check compares the system clock with it. */
  gpsClock: ClockPolicy;
  /** Filled by the outbox check for the disk check. */
  outbox: { bytes: number; recentBytes: number; recentSinceMs: number | null } | null;
}

export const pass = (id: string, detail: string, data?: Record<string, unknown>): Outcome => ({ id, status: 'pass', detail, hint: null, data });
export const warn = (id: string, detail: string, hint: string, data?: Record<string, unknown>): Outcome => ({ id, status: 'warn', detail, hint, data });
export const fail = (id: string, detail: string, hint: string | null, data?: Record<string, unknown>): Outcome => ({ id, status: 'fail', detail, hint, data });
export const skip = (id: string, detail: string): Outcome => ({ id, status: 'skip', detail, hint: null });

/** `what happened — what to do` (the agent's messages) → detail and hint. */
export function splitHint(message: string): { detail: string; hint: string | null } {
  const at = message.lastIndexOf(' — ');
  return at < 0 ? { detail: message, hint: null } : { detail: message.slice(0, at), hint: message.slice(at + 3) };
}

/** Resolves with `promise`, or rejects after `ms` with a message naming what did not answer. */
export function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return raceTimer(promise, ms, () => {
    throw Object.assign(new Error(`${what}: no answer within ${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`), { code: 'ETIMEDOUT' });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
