import type { Logger } from 'pino';
import type { StatusRecorder } from '../services/ports.js';
import type { BrokerMetrics } from './metrics.js';

export interface StatusBridgeOptions {
  status: StatusRecorder;
  maxPayloadBytes: number;
  logger: Logger;
  metrics: Pick<BrokerMetrics, 'dropped' | 'statusUpdates'>;
}

/** `…/{deviceId}/status` (including the last will) → StatusRecorder. Never rejects. */
export class StatusBridge {
  readonly #options: StatusBridgeOptions;
  readonly #pending = new Set<Promise<void>>();

  constructor(options: StatusBridgeOptions) {
    this.#options = options;
  }

  /** Records one status message; resolves when it is stored (or was refused). */
  accept(deviceId: string, payload: Buffer): Promise<void> {
    const job = this.#record(deviceId, payload);
    this.#pending.add(job);
    void job.finally(() => this.#pending.delete(job));
    return job;
  }

  /** Resolves when every status message received so far is settled. */
  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  async #record(deviceId: string, payload: Buffer): Promise<void> {
    const { status, maxPayloadBytes, logger, metrics } = this.#options;
    if (payload.length > maxPayloadBytes) {
      metrics.dropped.inc({ channel: 'status', reason: 'oversized' });
      metrics.statusUpdates.inc({ result: 'invalid' });
      logger.warn({ deviceId, bytes: payload.length, maxPayloadBytes }, 'status dropped: payload larger than mqtt.maxPayloadBytes');
      return;
    }
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
