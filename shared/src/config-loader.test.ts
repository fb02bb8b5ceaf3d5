import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { asInt, loadConfig } from './config-loader.js';
import { UserError } from './errors.js';

const schema = z.strictObject({
  name: z.string(),
  port: z.number().int().min(0).max(65535).default(1883),
  nested: z.strictObject({ size: z.number().default(1), label: z.string().default('x') }).prefault({}),
});
const bindings = [
  { name: 'T_NAME', path: ['name'] },
  { name: 'T_PORT', path: ['port'], parse: asInt },
  { name: 'T_SIZE', path: ['nested', 'size'], parse: asInt },
];

function file(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'rw-cfg-')), 'c.json');
  writeFileSync(path, content);
  return path;
}

describe('loadConfig', () => {
  it('layers defaults < file < env < overrides', () => {
    const cfg = loadConfig(schema, {
      what: 't',
      bindings,
      file: file('{"name":"from-file","port":1,"nested":{"label":"file"}}'),
      env: { T_PORT: '2', T_SIZE: '7' },
      overrides: { name: 'cli' },
    });
    expect(cfg).toEqual({ name: 'cli', port: 2, nested: { size: 7, label: 'file' } });
  });

  it('reports every problem at once, unknown keys included', () => {
    let error: unknown;
    try {
      loadConfig(schema, { what: 't', bindings, file: file('{"port":70000,"bogus":true}'), env: {} });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    const message = (error as Error).message;
    expect(message).toContain('name:');
    expect(message).toContain('port:');
    expect(message).toContain('bogus');
    expect(message).toContain('name: missing (set T_NAME or "name" in the config file)');
  });

  it('names a missing file and bad JSON', () => {
    expect(() => loadConfig(schema, { what: 't', bindings, file: '/nonexistent/x.json', env: {} })).toThrow(/not found — pass an existing JSON file/);
    expect(() => loadConfig(schema, { what: 't', bindings, file: file('{nope'), env: {} })).toThrow(/not valid JSON/);
  });

  it('keeps a non-numeric env value so the schema can name it', () => {
    expect(() => loadConfig(schema, { what: 't', bindings, env: { T_NAME: 'a', T_PORT: 'abc' } })).toThrow(/port:/);
  });
});
