import type { HubConfig } from '../config/schema.js';
import { createLogger } from '../logger.js';
import { createHub } from '../main.js';

export interface ServeProcess {
  on(signal: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void): unknown;
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  off(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  exit(code: number): never;
}

/**
 * `roadwatch-hub serve`: runs the hub until SIGINT/SIGTERM, then stops it in order and resolves 0.
 * A second signal exits at once. Logs are JSON lines on stdout.
 */
export async function serve(config: HubConfig, proc: ServeProcess = process): Promise<number> {
  const logger = createLogger({ level: config.logLevel });
  const hub = createHub(config, { logger });

  let stopRequested: (signal: NodeJS.Signals) => void = () => undefined;
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => (stopRequested = resolve));
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting immediately');
      proc.exit(130);
    }
    signalled = true;
    logger.info({ signal }, 'signal received: stopping (send it again to exit immediately)');
    stopRequested(signal);
  };
  // One bad promise somewhere must not take the whole hub down.
  const onUnhandledRejection = (reason: unknown): void => logger.error({ err: reason }, 'unhandled promise rejection');
  proc.on('SIGINT', onSignal);
  proc.on('SIGTERM', onSignal);
  proc.on('unhandledRejection', onUnhandledRejection);
  try {
    await hub.start();
    await stopSignal;
    await hub.stop();
    return 0;
  } finally {
    proc.off('SIGINT', onSignal);
    proc.off('SIGTERM', onSignal);
    proc.off('unhandledRejection', onUnhandledRejection);
  }
}
