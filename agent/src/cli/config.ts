import { loadConfig } from '@roadwatch/shared';
import { AGENT_ENV, AgentConfigSchema, type AgentConfig } from '../config/schema.js';

/**
 * The agent config with the credentials optional: `replay` and `queue` touch only the outbox, so a
 * technician can import or inspect without the device secret. Keys that are set are still checked.
 */
export const FieldConfigSchema = AgentConfigSchema.partial({ deviceId: true, deviceSecret: true, hubUrl: true });
export type FieldConfig = ReturnType<typeof FieldConfigSchema.parse>;

export function loadFieldConfig(file: string | undefined, env: NodeJS.ProcessEnv): FieldConfig {
  return loadConfig(FieldConfigSchema, { file, env, bindings: AGENT_ENV, what: 'agent' });
}

export function loadAgentConfig(file: string | undefined, env: NodeJS.ProcessEnv): AgentConfig {
  return loadConfig(AgentConfigSchema, { file, env, bindings: AGENT_ENV, what: 'agent' });
}

/**
 * Log level of the field commands (`replay`, `queue`): their output is for a person, so their JSON
 * logs (on stderr) stay at warn and above — evictions still show — unless debug or trace is asked for.
 */
export function fieldLogLevel(level: FieldConfig['logLevel']): FieldConfig['logLevel'] {
  return level === 'debug' || level === 'trace' || level === 'silent' || level === 'error' || level === 'fatal' ? level : 'warn';
}
