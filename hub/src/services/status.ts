import { StatusSchema } from '@roadwatch/shared';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { deviceStatus } from '../db/schema.js';
import { hasUnstorableText } from './ingest-validate.js';
import type { StatusRecorder } from './ports.js';

export interface StatusServiceDeps {
  db: Db;
  logger: Logger;
  clock?: () => Date;
}

const decoder = new TextDecoder('utf-8');

export class StatusService implements StatusRecorder {
  private readonly db: Db;
  private readonly clock: () => Date;

  constructor(deps: StatusServiceDeps) {
    this.db = deps.db;
    this.clock = deps.clock ?? (() => new Date());
  }

  async record(deviceId: string, payload: Uint8Array | string): Promise<boolean> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(typeof payload === 'string' ? payload : decoder.decode(payload));
    } catch {
      return false;
    }
    const result = StatusSchema.safeParse(parsed);
    if (!result.success || hasUnstorableText(result.data)) return false;
    const status = result.data;
    const updatedAt = this.clock();
    await this.db
      .insert(deviceStatus)
      .values({ deviceId, state: status.state, payload: status, updatedAt })
      .onConflictDoUpdate({ target: deviceStatus.deviceId, set: { state: status.state, payload: status, updatedAt } });
    return true;
  }
}
