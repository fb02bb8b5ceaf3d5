import { UserError } from '@roadwatch/shared';
import type { HubConfig } from '../config/schema.js';
import { openDatabase, redactUrl } from '../db/client.js';
import { pgliteDir, pgliteLockHolder } from '../db/pglite-lock.js';
import type { Logger } from '../logger.js';
import { AggregatesService } from '../services/aggregates.js';
import type { CliIo } from './io.js';

export interface AggregatesRebuildOptions {
  from?: string;
  to?: string;
  json?: boolean;
}

/**
 * `roadwatch-hub aggregates rebuild [--from ISO] [--to ISO] [--json]`: recomputes the hourly
 * rollups of the range (and the daily cell rollup of the days it touches) from detections (docs/AGGREGATES.md). Safe while a hub ingests into the same
 * Postgres; the embedded database can only be rebuilt while no hub holds it.
 */
export async function aggregatesRebuild(options: AggregatesRebuildOptions, config: HubConfig, io: CliIo, logger: Logger): Promise<number> {
  const from = parseTime('--from', options.from);
  const to = parseTime('--to', options.to);
  if (from && to && from >= to) throw new UserError(`--from ${options.from} is not before --to ${options.to}`, 'give a non-empty range, or neither option to rebuild everything');
  if (!config.databaseUrl) {
    const holder = pgliteLockHolder(config.dataDir);
    if (holder !== null) {
      throw new UserError(
        `the embedded database in ${pgliteDir(config.dataDir)} is open by process ${holder} (roadwatch-hub serve?)`,
        'stop the hub, run the rebuild, start it again (with Postgres, DATABASE_URL, it can run beside a running hub)',
      );
    }
  }
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2, logger });
  try {
    await database.migrate();
    const report = await new AggregatesService({ db: database.db, logger, h3Resolution: config.aggregates.h3Resolution }).rebuild({ from, to });
    if (options.json) {
      io.stdout(`${JSON.stringify(report)}\n`);
    } else {
      const where = config.databaseUrl ? `Postgres ${redactUrl(config.databaseUrl)}` : `the embedded database in ${pgliteDir(config.dataDir)}`;
      const { from: first, to: end } = report.hours;
      io.stdout(
        [
          `Aggregates rebuilt in ${where} (H3 resolution ${config.aggregates.h3Resolution}).`,
          `  hours: ${first || end ? `${first ?? 'the beginning'} … ${end ?? 'the end'}` : 'all'}`,
          `  agg_hourly_device: ${report.rows.hourlyDevice} rows`,
          `  agg_hourly_cell: ${report.rows.hourlyCell} rows`,
          `  agg_daily_cell: ${report.rows.dailyCell} rows (days ${report.days.from ?? 'from the beginning'} … ${report.days.to ?? 'the end'}, whole)`,
          `  H3 cells computed for ${report.cellsFilled} detections`,
          '',
        ].join('\n'),
      );
    }
    return 0;
  } finally {
    await database.close();
  }
}

function parseTime(option: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const time = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? new Date(value.length === 10 ? `${value}T00:00:00Z` : value) : null;
  if (!time || Number.isNaN(time.getTime())) {
    throw new UserError(`${option} "${value}" is not an ISO 8601 date or time`, 'for example 2026-11-01 or 2026-11-01T06:00:00Z (UTC unless an offset is given)');
  }
  return time;
}
