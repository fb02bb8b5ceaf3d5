import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deviceTopic, newBatchId } from '@roadwatch/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ackCollector, connectDevice } from '../broker/testing/harness.js';
import { batchPayload, makeEvents } from '../services/testing/fixtures.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(repo, 'hub/bin/roadwatch-hub.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runBin(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, cwd: repo });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** Spawns `serve` and resolves once the given log lines were seen (JSON lines on stdout). */
function startServe(env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [bin, 'serve'], { env, cwd: repo }) as ChildProcessWithoutNullStreams;
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  let buffered = '';
  const listeners: Array<() => void> = [];
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part) as Record<string, unknown>);
      } catch {
        lines.push({ msg: `(not JSON) ${part}` });
      }
    }
    for (const listener of listeners) listener();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.on('close', (code) => resolveExit(code)));
  const waitFor = (msg: string, timeoutMs = 60_000) =>
    new Promise<Record<string, unknown>>((resolveLine, reject) => {
      const check = () => {
        const line = lines.find((l) => l.msg === msg);
        if (line) resolveLine(line);
      };
      listeners.push(check);
      check();
      const timer = setTimeout(() => reject(new Error(`serve did not log "${msg}" in time; stdout: ${JSON.stringify(lines)} stderr: ${stderr}`)), timeoutMs);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`serve exited (${code}) before logging "${msg}"; stderr: ${stderr}`));
      });
    });
  return { child, lines, waitFor, exited, stderr: () => stderr };
}

describe('roadwatch-hub binary', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    execFileSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-b', 'hub'], { cwd: repo, stdio: 'inherit' });
    dataDir = mkdtempSync(join(tmpdir(), 'rw-serve-'));
    const { DATABASE_URL: _ignored, ...rest } = process.env;
    env = { ...rest, ROADWATCH_HUB_DATA: dataDir, ROADWATCH_HUB_HOST: '127.0.0.1', ROADWATCH_HUB_HTTP_PORT: '0', ROADWATCH_HUB_MQTT_PORT: '0' };
  }, 180_000);
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serve on port 0 with PGlite; devices add/list go through the admin API; SIGTERM stops cleanly', async () => {
    const serve = startServe(env);
    try {
      const mqtt = await serve.waitFor('mqtt listening');
      const http = await serve.waitFor('http listening');
      await serve.waitFor('hub started');
      expect(mqtt.port).toEqual(expect.any(Number));
      expect(mqtt.port).not.toBe(0);
      expect(http.port).not.toBe(0);
      const adminFile = join(dataDir, 'admin.json');
      expect(statSync(adminFile).mode & 0o777).toBe(0o600);

      const health = await fetch(`http://127.0.0.1:${http.port as number}/health/ready`);
      expect(health.status).toBe(200);

      const added = await runBin(['devices', 'add', 'veh-cli', '--json'], env);
      expect(added.stderr).toBe('');
      expect(added.code).toBe(0);
      expect(added.stdout).toMatch(/^\{"deviceId":"veh-cli","secret":"[^"]+"\}\n$/);
      const { secret } = JSON.parse(added.stdout) as { secret: string };

      const listed = await runBin(['devices', 'list', '--json'], env);
      expect(listed.code).toBe(0);
      expect((JSON.parse(listed.stdout) as Array<{ deviceId: string }>).map((d) => d.deviceId)).toEqual(['veh-cli']);

      // The device connects to the running hub with the secret the CLI printed.
      const client = await connectDevice(`mqtt://127.0.0.1:${mqtt.port as number}`, 'veh-cli', secret);
      const acks = await ackCollector(client, 'veh-cli');
      const batchId = newBatchId();
      await client.publishAsync(deviceTopic('veh-cli', 'events'), batchPayload('veh-cli', makeEvents(2), batchId), { qos: 1 });
      expect((await acks.waitFor(batchId)).stored).toHaveLength(2);
      await client.endAsync();
      // The REST API wants a token: tokens create goes through the admin API too.
      const api = `http://127.0.0.1:${http.port as number}/api/v1/detections`;
      expect((await fetch(api)).status).toBe(401);
      const created = await runBin(['tokens', 'create', '--name', 'cli-reader', '--scope', 'read', '--json'], env);
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
      const { token } = JSON.parse(created.stdout) as { token: string };
      expect(token).toMatch(/^rwt_/);
      const detections = (await (await fetch(api, { headers: { Authorization: `Bearer ${token}` } })).json()) as { items: unknown[] };
      expect(detections.items).toHaveLength(2);
      const tokens = await runBin(['tokens', 'list', '--json'], env);
      expect(JSON.parse(tokens.stdout)).toEqual([expect.objectContaining({ name: 'cli-reader', scope: 'read', lastUsedAt: expect.any(String), revokedAt: null })]);
      const revoked = await runBin(['tokens', 'revoke', 'cli-reader'], env);
      expect(revoked.code).toBe(0);
      expect(revoked.stdout).toBe('Token cli-reader revoked: it no longer works.\n');
      expect((await fetch(api, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(401);

      const migrate = await runBin(['migrate'], env);
      expect(migrate.code).toBe(2);
      expect(migrate.stderr).toMatch(/^roadwatch-hub: the embedded database in .* is open by process \d+ \(roadwatch-hub serve\?\) — serve applies/);

      serve.child.kill('SIGTERM');
      expect(await serve.exited).toBe(0);
      expect(serve.lines.some((l) => l.msg === 'hub stopped')).toBe(true);
      expect(existsSync(adminFile)).toBe(false);
    } finally {
      if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
    }

    // With serve gone, the CLI opens the embedded database itself.
    const after = await runBin(['devices', 'list', '--json'], env);
    expect(after.code).toBe(0);
    expect((JSON.parse(after.stdout) as Array<{ deviceId: string }>).map((d) => d.deviceId)).toEqual(['veh-cli']);
    const tokensAfter = await runBin(['tokens', 'list', '--json'], env);
    expect(tokensAfter.code).toBe(0);
    expect(JSON.parse(tokensAfter.stdout)).toEqual([expect.objectContaining({ name: 'cli-reader', revokedAt: expect.any(String) })]);
  }, 120_000);

  it.each([
    ['MQTT', 'ROADWATCH_HUB_MQTT_PORT', 'another MQTT broker such as mosquitto?'],
    ['HTTP', 'ROADWATCH_HUB_HTTP_PORT', 'another roadwatch-hub or web server?'],
  ])('serve explains a %s port in use and exits 2', async (_what, variable, hint) => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await runBin(['serve'], { ...env, [variable]: String(port) });
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(`roadwatch-hub: port ${port} is already in use (${hint}) — stop it or set ${variable} to a free port (0 picks one)\n`);
      expect(existsSync(join(dataDir, 'admin.json'))).toBe(false);
    } finally {
      blocker.close();
    }
  }, 60_000);
});
