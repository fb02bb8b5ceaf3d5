import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { UserError } from '@roadwatch/shared';
import type { HubConfig } from './schema.js';

/**
 * What the schema cannot see: files and directories the configuration names. The schema already
 * reported every bad value at once (loadConfig); this reports every unusable path at once, before
 * the hub opens its database or listens on any port.
 */
export function startupProblems(config: Pick<HubConfig, 'dataDir' | 'mqtt'>): string[] {
  const problems: string[] = [];
  const dataDirProblem = writableDirProblem(config.dataDir);
  if (dataDirProblem) problems.push(`dataDir ${config.dataDir}: ${dataDirProblem} — fix ROADWATCH_HUB_DATA or give the hub's user write access to it`);
  const files = [
    ['mqtt.tlsCertFile', 'ROADWATCH_HUB_TLS_CERT', config.mqtt.tlsCertFile],
    ['mqtt.tlsKeyFile', 'ROADWATCH_HUB_TLS_KEY', config.mqtt.tlsKeyFile],
  ] as const;
  for (const [key, env, file] of files) {
    if (!file || config.mqtt.url) continue; // the embedded broker's files: unused in scale-out mode
    const problem = readableFileProblem(file);
    if (problem) problems.push(`${key} ${file}: ${problem} — fix ${key} (${env}) or unset both TLS files to use plain TCP`);
  }
  if (config.mqtt.caFile) {
    const problem = readableFileProblem(config.mqtt.caFile);
    if (problem) problems.push(`mqtt.caFile ${config.mqtt.caFile}: ${problem} — point ROADWATCH_HUB_MQTT_CA_FILE at the PEM CA that signed the external broker's certificate, readable by the hub's user`);
  }
  return problems;
}

/** Throws one UserError naming every problem of startupProblems, or returns. */
export function checkStartup(config: Pick<HubConfig, 'dataDir' | 'mqtt'>): void {
  const problems = startupProblems(config);
  if (problems.length === 0) return;
  throw new UserError(`the hub cannot start (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  ${p}`).join('\n')}`);
}

function writableDirProblem(dir: string): string | null {
  try {
    mkdirSync(dir, { recursive: true });
    if (!statSync(dir).isDirectory()) return 'not a directory';
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
    return null;
  } catch (error) {
    return describe(error);
  }
}

function readableFileProblem(file: string): string | null {
  try {
    if (!statSync(file).isFile()) return 'not a file';
    accessSync(file, constants.R_OK);
    return null;
  } catch (error) {
    return describe(error);
  }
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'not found';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR') return 'a parent is not a directory';
  if (code === 'EEXIST') return 'exists and is not a directory';
  return (error as Error).message;
}
