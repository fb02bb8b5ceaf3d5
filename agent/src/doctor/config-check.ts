import { UserError } from '@roadwatch/shared';
import { loadAgentConfig, loadFieldConfig, type FieldConfig } from '../cli/config.js';
import type { AgentConfig } from '../config/schema.js';
import type { ControlClient } from '../control/client.js';
import type { AgentStatus } from '../control/status.js';
import { describeEndpoint } from '../control/endpoint.js';
import { formatAge } from '../cli/queue.js';
import { fail, pass, warn, type Outcome } from './types.js';

export interface LoadedConfig {
  config: AgentConfig | null;
  field: FieldConfig | null;
  outcome: Outcome;
}

/** The whole config, every error at once; what can be read without credentials is kept for the device checks. */
export function checkConfig(file: string | undefined, env: NodeJS.ProcessEnv): LoadedConfig {
  const where = file ? `${file} and the environment` : 'the environment (no --config file)';
  try {
    const config = loadAgentConfig(file, env);
    return { config, field: config, outcome: pass('config', `valid (${where})`, { file: file ?? null }) };
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    let field: FieldConfig | null = null;
    try {
      field = loadFieldConfig(file, env);
    } catch {
      // the device checks are skipped
    }
    const message = error.fix ? error.message.slice(0, -(error.fix.length + 3)) : error.message;
    const hint = field ? `${error.fix ?? 'fix the config'} (the device checks below still ran)` : `${error.fix ?? 'fix the config'}; the other checks need a readable config`;
    return { config: null, field, outcome: fail('config', message, hint, { file: file ?? null }) };
  }
}

/** Whether the service runs: if so, the camera, GPS and hub connection are read from it (it holds them). */
export async function checkService(client: ControlClient | null): Promise<{ status: AgentStatus | null; outcome: Outcome }> {
  if (!client) return { status: null, outcome: pass('service', 'not checked (config invalid)') };
  const where = describeEndpoint(client.endpoint);
  try {
    const status = await client.statusIfRunning();
    if (!status) return { status: null, outcome: pass('service', `not running (nothing on the ${where}): the camera, GPS and hub are checked directly`, { running: false }) };
    const a = status.agent;
    const detail = `running: roadwatch ${a.version ?? '?'}, pid ${a.pid}, up ${formatAge(a.uptimeS * 1000)}, health ${status.health.ok ? 'ok' : 'FAULT'} — the camera, GPS and hub link are read from it`;
    return { status, outcome: pass('service', detail, { running: true, pid: a.pid, uptimeS: a.uptimeS, health: status.health }) };
  } catch (error) {
    const text = (error as Error).message;
    const at = text.lastIndexOf(' — ');
    return { status: null, outcome: warn('service', `cannot ask the service: ${at < 0 ? text : text.slice(0, at)}`, at < 0 ? 'run roadwatch doctor as the service user' : text.slice(at + 3), { running: null }) };
  }
}
