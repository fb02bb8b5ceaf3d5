import type { Logger } from 'pino';
import type { AgentConfig } from '../config/schema.js';
import { createLogger } from '../logger.js';
import type { OutboxStats } from '../outbox/outbox.js';
import { DetectStallWatch, outboxHealth, serviceHealth, systemdNotifier, type DetectProgress, type HealthCheck, type SystemdNotifier } from '../systemd/watchdog.js';
import { loadAgentConfig } from './config.js';
import type { CliIo } from './io.js';

export interface AgentHandle {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The systemd watchdog's health check reads it (agent/src/systemd/watchdog.ts). */
  outbox?: { stats(): OutboxStats };
  /** The camera pipeline while it runs: the watchdog stops pinging when its detector hangs. */
  sensing?: () => { stats(): { detect: DetectProgress } } | null;
}
export type CreateAgent = (config: AgentConfig, deps: { logger: Logger }) => AgentHandle;

export interface RunOptions {
  config?: string;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const SIGNAL_NUMBERS: Record<(typeof SIGNALS)[number], number> = { SIGINT: 2, SIGTERM: 15 };

/** Loaded only by `run`, so `replay` and `queue` work in a build without the service. */
const loadCreateAgent = async (): Promise<CreateAgent> => (await import('../main.js')).createAgent;

/**
 * `roadwatch run`: the service. The first SIGINT/SIGTERM stops the agent (flushing what it must)
 * and exits 0; a second one exits at once with 128 + the signal number.
 */
export async function runCommand(options: RunOptions, io: CliIo, load: () => Promise<CreateAgent> = loadCreateAgent): Promise<number> {
  const config = loadAgentConfig(options.config, io.env);
  const logger = createLogger({ level: config.logLevel, destination: io.stdout });
  const createAgent = await load();
  const agent = createAgent(config, { logger });

  // Under systemd (Type=notify): READY=1 after start, WATCHDOG=1 while healthy (outbox answers, data
  // dir writable, detector not hung), STOPPING=1 on a signal.
  let systemd: SystemdNotifier | null = null;
  let stopping: Promise<number> | null = null;
  let resolveStopped: (code: number) => void = () => {};
  const stopped = new Promise<number>((resolve) => (resolveStopped = resolve));
  const onSignal = (signal: (typeof SIGNALS)[number]) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now without waiting for the agent to stop');
      io.exit(128 + SIGNAL_NUMBERS[signal]);
      return;
    }
    logger.info({ signal }, 'stopping (send the signal again to exit at once)');
    void systemd?.stopping();
    stopping = agent.stop().then(
      () => 0,
      (error: unknown) => {
        logger.error({ err: error }, 'agent did not stop cleanly');
        return 1;
      },
    );
    void stopping.then((code) => {
      for (const s of SIGNALS) io.signals.off(s, handlers[s]);
      resolveStopped(code);
      io.exit(code);
    });
  };
  const handlers = { SIGINT: () => onSignal('SIGINT'), SIGTERM: () => onSignal('SIGTERM') };
  for (const s of SIGNALS) io.signals.on(s, handlers[s]);

  try {
    await agent.start();
  } catch (error) {
    for (const s of SIGNALS) io.signals.off(s, handlers[s]);
    await agent.stop().catch(() => {});
    throw error;
  }
  if (!stopping) {
    systemd = systemdNotifier(io.env, agentHealth(agent, config.dataDir), logger);
    await systemd?.ready();
  }
  return stopped;
}

/** What the watchdog asks of a running agent: its outbox and data dir, and its detector not hung. */
export function agentHealth(agent: AgentHandle, dataDir: string, mono?: () => number, stallMs?: number): HealthCheck {
  const stored: HealthCheck = agent.outbox ? outboxHealth(agent.outbox, dataDir) : () => ({ ok: true, status: 'running' });
  const pipeline = agent.sensing ? new DetectStallWatch(() => agent.sensing?.()?.stats().detect ?? null, mono, stallMs) : null;
  return serviceHealth(stored, pipeline);
}
