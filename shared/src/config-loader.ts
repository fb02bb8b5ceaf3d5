import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { UserError } from './errors.js';

/** Maps an environment variable to a config path and a parser for its text. */
export interface EnvBinding {
  name: string;
  path: readonly string[];
  parse?: (raw: string) => unknown;
}

export const asInt = (raw: string): unknown => (/^-?\d+$/.test(raw.trim()) ? Number(raw) : raw);
export const asList = (raw: string): unknown => raw.split(',').map((s) => s.trim()).filter(Boolean);

export interface LoadConfigOptions {
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  bindings: readonly EnvBinding[];
  /** Values given on the command line; they win over everything. */
  overrides?: Record<string, unknown>;
  what: string;
}

/**
 * defaults (in the schema) < JSON file < environment < command line. Every problem is reported at
 * once in one UserError, before the process touches any device or socket.
 */
export function loadConfig<S extends z.ZodType>(schema: S, options: LoadConfigOptions): z.infer<S> {
  const merged: Record<string, unknown> = {};
  if (options.file) deepMerge(merged, readJsonFile(options.file, options.what));
  const env = options.env ?? process.env;
  for (const binding of options.bindings) {
    const raw = env[binding.name];
    if (raw === undefined || raw === '') continue;
    setPath(merged, binding.path, binding.parse ? binding.parse(raw) : raw);
  }
  if (options.overrides) deepMerge(merged, options.overrides);
  const result = schema.safeParse(merged);
  if (!result.success) {
    const envFor = new Map(options.bindings.map((b) => [b.path.join('.'), b.name]));
    const lines = result.error.issues.map((issue) => {
      const path = issue.path.join('.');
      const variable = envFor.get(path);
      const message = /received undefined$/.test(issue.message) ? 'missing' : issue.message;
      return `  ${path || '(root)'}: ${message}${variable ? ` (set ${variable} or "${path}" in the config file)` : ''}`;
    });
    const source = options.file ? ` (file ${options.file} and environment)` : ' (environment)';
    throw new UserError(`invalid ${options.what} configuration${source}:\n${lines.join('\n')}`, 'fix the values above; the README lists every key');
  }
  return result.data;
}

function readJsonFile(file: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(`${what} config file ${file}: ${code === 'ENOENT' ? 'not found' : String(error)}`, 'pass an existing JSON file with --config');
  }
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('top level must be an object');
    return value as Record<string, unknown>;
  } catch (error) {
    throw new UserError(`${what} config file ${file} is not valid JSON: ${(error as Error).message}`, 'fix the JSON syntax');
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const current = target[key];
    const bothObjects = value !== null && typeof value === 'object' && !Array.isArray(value) && current !== null && typeof current === 'object' && !Array.isArray(current);
    if (bothObjects) deepMerge(current as Record<string, unknown>, value as Record<string, unknown>);
    else target[key] = value;
  }
}
