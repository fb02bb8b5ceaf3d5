import type { IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Backoff } from './backoff.js';
import { endClient } from './client-helpers.js';
import type { UplinkCounters, UplinkState } from './metrics.js';

export type MqttConnect = (url: string, options: IClientOptions) => MqttClient;

export interface LinkHandlers {
  /** Connected and subscribed to `subscribeTopic`: safe to publish. */
  online(client: MqttClient): void;
  /** The connection is gone (after online, or a failed attempt); a reconnect is scheduled unless closing. */
  offline(): void;
  message(topic: string, payload: Buffer): void;
  state(state: Exclude<UplinkState, 'stopped'>): void;
  count(name: keyof UplinkCounters): void;
}

export interface LinkOptions {
  url: string;
  options: IClientOptions;
  connect: MqttConnect;
  backoff: Backoff;
  backoffMaxMs: number;
  subscribeTopic: string;
  log: Logger;
  /** Monotonic clock, ms: how long a connection lived (a wall-clock step must not fake a stable link). */
  clock: () => number;
  handlers: LinkHandlers;
}

/** A connection that drops sooner than this after CONNACK does not reset the backoff (flapping link or hub). */
const STABLE_CONNECTION_MS = 10_000;
/** Refused credentials are retried no faster than this (capped by uplink.backoffMaxMs). */
const AUTH_RETRY_FLOOR_MS = 30_000;
export const CREDENTIALS_HINT = 'hub rejected device credentials — check ROADWATCH_DEVICE_SECRET or re-issue with roadwatch-hub devices add';

/**
 * One MQTT connection to the hub at a time, re-established with jittered backoff. mqtt.js runs with
 * reconnectPeriod 0 and every attempt gets a fresh client, so no stale in-memory store is replayed
 * (unacked batches are resent by the uplink from the outbox instead).
 */
export class MqttLink {
  private current: MqttClient | undefined;
  private isReady = false;
  private closing = false;
  private connectedAt = 0;
  private outageWarned = false;
  private authRefused = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  lastError: string | null = null;

  constructor(private readonly o: LinkOptions) {}

  get ready(): boolean {
    return this.isReady;
  }

  get client(): MqttClient | undefined {
    return this.isReady ? this.current : undefined;
  }

  start(): void {
    this.closing = false;
    this.attempt();
  }

  /** Stops reconnecting and ends the connection (DISCONNECT when online, so the broker drops the will). */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    const client = this.current;
    const graceful = this.isReady;
    this.current = undefined;
    this.isReady = false;
    if (client) await endClient(client, !graceful);
  }

  private attempt(): void {
    if (this.closing) return;
    this.o.handlers.state('connecting');
    let client: MqttClient;
    try {
      client = this.o.connect(this.o.url, { ...this.o.options });
    } catch (error) {
      this.onError(error as Error);
      this.scheduleReconnect();
      return;
    }
    this.current = client;
    let closed = false;
    client.on('connect', (connack) => {
      if (this.current === client) this.onConnected(client, connack.sessionPresent);
    });
    client.on('message', (topic, payload) => {
      if (this.current === client) this.o.handlers.message(topic, payload);
    });
    client.on('error', (error) => {
      if (this.current === client) this.onError(error);
    });
    client.on('close', () => {
      if (closed) return;
      closed = true;
      if (this.current === client) this.onClosed(client);
    });
  }

  private onConnected(client: MqttClient, sessionPresent: boolean): void {
    this.o.handlers.count('connects');
    this.connectedAt = this.o.clock();
    this.authRefused = false;
    this.lastError = null;
    const wasOut = this.outageWarned;
    this.outageWarned = false;
    this.o.log.info({ sessionPresent, attempts: this.o.backoff.attempts }, wasOut ? 'connected to hub again' : 'connected to hub');
    // The persistent session usually has the subscription already; subscribing again is harmless.
    client.subscribe(this.o.subscribeTopic, { qos: 1 }, (error, granted) => {
      if (this.current !== client || this.closing) return;
      if (error || granted?.some((g) => g.qos === 128)) {
        this.lastError = `subscribe ${this.o.subscribeTopic}: ${error ? error.message : 'refused by the hub'}`;
        this.o.log.error({ topic: this.o.subscribeTopic, err: error?.message }, 'hub refused the acks subscription — check the hub ACL for this device; reconnecting');
        client.end(true);
        return;
      }
      this.isReady = true;
      this.o.handlers.state('online');
      this.o.handlers.online(client);
    });
  }

  private onError(error: Error): void {
    this.lastError = error.message;
    const code = (error as { code?: unknown }).code;
    if (code === 4 || code === 5) {
      this.authRefused = true;
      this.o.handlers.count('authFailures');
      this.o.log.error({ err: error.message }, CREDENTIALS_HINT);
      return;
    }
    if (!this.outageWarned) {
      this.outageWarned = true;
      this.o.log.warn({ err: error.message, hubUrl: this.o.url }, 'hub unreachable — retrying with backoff; events wait in the outbox (check ROADWATCH_HUB_URL and that the hub is running)');
    } else {
      this.o.log.debug({ err: error.message }, 'connection attempt failed');
    }
  }

  private onClosed(client: MqttClient): void {
    const wasReady = this.isReady;
    this.isReady = false;
    this.current = undefined;
    client.removeAllListeners('message');
    client.on('error', () => {});
    this.o.handlers.offline();
    if (this.closing) return;
    this.o.handlers.count('connectFailures');
    if (wasReady) {
      if (this.o.clock() - this.connectedAt >= STABLE_CONNECTION_MS) this.o.backoff.reset();
      if (!this.outageWarned) {
        this.outageWarned = true;
        this.o.log.warn({ err: this.lastError }, 'lost connection to hub — retrying with backoff; events wait in the outbox');
      }
    }
    client.end(true);
    this.scheduleReconnect();
  }

  /**
   * Connects now when waiting out a backoff (a technician asked to sync: `roadwatch sync --now`).
   * Returns false when there was nothing to cut short (connecting, online, or closing).
   */
  wake(): boolean {
    if (this.closing || this.reconnectTimer === undefined) return false;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.o.log.info('reconnecting now (asked to sync)');
    this.attempt();
    return true;
  }

  private scheduleReconnect(): void {
    if (this.closing) return;
    let delay = this.o.backoff.next();
    if (this.authRefused) delay = Math.max(delay, Math.min(this.o.backoffMaxMs, AUTH_RETRY_FLOOR_MS));
    this.o.handlers.state('backoff');
    this.o.log.debug({ delayMs: delay, attempt: this.o.backoff.attempts }, 'reconnecting after backoff');
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.attempt();
    }, delay);
  }
}
