import type { Logger } from 'pino';
import type { StatusRecorder } from '../services/ports.js';
import { Limiter } from './limiter.js';
import type { BrokerMetrics } from './metrics.js';

export interface StatusBridgeOptions {
  status: StatusRecorder;
  maxPayloadBytes: number;
  /** Status messages recorded at the same time (each is one DB statement and the device alarm rules). */
  concurrency: number;
  logger: Logger;
  metrics: Pick<BrokerMetrics, 'dropped' | 'statusUpdates'>;
}

/**
 * `…/{deviceId}/status` (including the last will) → StatusRecorder. Never rejects.
 *
 * - At most `concurrency` statuses are recorded at once; `accept` resolves when the message has a
 *   slot, so the transport holds back further packets until there is room (as for batches).
 * - The statuses of one device are recorded in the order they arrived (an `online` followed by the
 *   last will must end `offline`), whatever the concurrency.
 */
export class StatusBridge {
  readonly #options: StatusBridgeOptions;
  readonly #limiter: Limiter;
  /** The last admitted status of each device with one still being recorded. */
  readonly #tails = new Map<string, Promise<void>>();

  constructor(options: StatusBridgeOptions) {
    this.#options = options;
    this.#limiter = new Limiter(options.concurrency);
  }

  /** Admits one status message; resolves once it is being recorded (or was refused). */
  async accept(deviceId: string, payload: Buffer): Promise<void> {
    const { maxPayloadBytes, logger, metrics } = this.#options;
    if (payload.length > maxPayloadBytes) {
      metrics.dropped.inc({ channel: 'status', reason: 'oversized' });
      metrics.statusUpdates.inc({ result: 'invalid' });
      logger.warn({ deviceId, bytes: payload.length, maxPayloadBytes }, 'status dropped: payload larger than mqtt.maxPayloadBytes');
      return;
    }
    const release = await this.#limiter.acquire();
    // Slots are granted in arrival order, so the tail read here is this device's previous status.
    const previous = this.#tails.get(deviceId);
    const job = (previous ? previous.then(() => this.#record(deviceId, payload)) : this.#record(deviceId, payload)).finally(release);
    this.#tails.set(deviceId, job);
    void job.finally(() => {
      if (this.#tails.get(deviceId) === job) this.#tails.delete(deviceId);
    });
  }

  /** Resolves when every status message admitted so far is settled. */
  drain(): Promise<void> {
    return this.#limiter.idle();
  }

  /** Never rejects. */
  async #record(deviceId: string, payload: Buffer): Promise<void> {
    const { status, logger, metrics } = this.#options;
    try {
      if (await status.record(deviceId, payload)) {
        metrics.statusUpdates.inc({ result: 'recorded' });
      } else {
        metrics.statusUpdates.inc({ result: 'invalid' });
        metrics.dropped.inc({ channel: 'status', reason: 'invalid' });
        logger.warn({ deviceId, payload: preview(payload) }, 'invalid status payload ignored');
      }
    } catch (error) {
      metrics.statusUpdates.inc({ result: 'error' });
      logger.error({ deviceId, err: error }, 'could not record device status');
    }
  }
}

function preview(payload: Buffer): string {
  const text = payload.subarray(0, 200).toString('utf8');
  return payload.length > 200 ? `${text}…` : text;
}
