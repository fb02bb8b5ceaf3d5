import { join } from 'node:path';

/** The outbox file inside the agent's data dir. The service, `replay` and `queue` all use this path. */
export function outboxPath(dataDir: string): string {
  return join(dataDir, 'outbox.sqlite');
}
