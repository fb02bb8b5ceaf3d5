import { createLogger } from '../logger.js';
import { SqliteOutbox } from '../outbox/sqlite-outbox.js';
import { assertEventsFileReadable, importJsonl } from '../replay/import-jsonl.js';
import { fieldLogLevel, loadFieldConfig } from './config.js';
import type { CliIo } from './io.js';

export interface ReplayOptions {
  events: string;
  config?: string;
  json?: boolean;
}

/** Bad lines printed in human output; all of them are counted. */
const MAX_LISTED = 1000;

/** `roadwatch replay`: exit 0 when every line was imported, 1 when some were skipped. */
export async function replayCommand(options: ReplayOptions, io: CliIo): Promise<number> {
  const config = loadFieldConfig(options.config, io.env);
  await assertEventsFileReadable(options.events); // before the outbox is created for a mistyped path
  const logger = createLogger({ level: fieldLogLevel(config.logLevel), destination: io.stderr });
  const outbox = SqliteOutbox.forConfig(config, { logger, clock: io.clock });
  try {
    const result = await importJsonl({ file: options.events, outbox, logger, maxErrors: MAX_LISTED });
    const unlisted = result.skipped - result.errors.length;
    if (options.json) {
      io.stdout.write(`${JSON.stringify({ file: options.events, outbox: outbox.path, ...result, unlistedErrors: unlisted })}\n`);
    } else {
      const lines = [`imported ${count(result.imported, 'event')} into ${outbox.path}`];
      if (result.skipped > 0) {
        lines.push(`skipped ${count(result.skipped, 'bad line')}:`);
        for (const error of result.errors) lines.push(`  line ${error.line}: ${error.message}`);
        if (unlisted > 0) lines.push(`  … and ${unlisted} more`);
      }
      io.stdout.write(`${lines.join('\n')}\n`);
    }
    return result.skipped > 0 ? 1 : 0;
  } finally {
    outbox.close();
  }
}

function count(n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
}
