import type { Logger } from 'pino';

export interface Periodic {
  /** Stops the timer and resolves once a run in progress has finished. */
  stop(): Promise<void>;
}

/**
 * Runs `task` every `everyMs`, never two at once (a tick while a run is going is skipped), logging
 * failures instead of throwing. The timer does not keep the process alive.
 */
export function startPeriodic(task: () => Promise<void>, everyMs: number, logger: Logger, name: string): Periodic {
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = task()
      .catch((err: unknown) => logger.warn({ err, task: name }, `${name} failed; retrying at the next tick`))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (running) await running;
    },
  };
}
