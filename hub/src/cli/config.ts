import { loadConfig } from '@roadwatch/shared';
import { HUB_ENV, HubConfigSchema, type HubConfig } from '../config/schema.js';
import { createLogger, type Logger } from '../logger.js';
import type { CliIo } from './io.js';

/** defaults < --config FILE < environment; every problem reported at once as a UserError. */
export function loadHubConfig(file: string | undefined, io: CliIo): HubConfig {
  return loadConfig(HubConfigSchema, { file, env: io.env, bindings: HUB_ENV, what: 'hub' });
}

/**
 * Logger for one-shot commands: JSON on stderr so stdout carries only the command's output, and
 * only warnings unless ROADWATCH_HUB_LOG_LEVEL asks for more.
 */
export function commandLogger(io: CliIo): Logger {
  return createLogger({ level: io.env.ROADWATCH_HUB_LOG_LEVEL || 'warn', destination: 2 });
}
