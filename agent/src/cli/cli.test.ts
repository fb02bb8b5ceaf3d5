import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AgentConfig } from '../config/schema.js';
import { outboxPath } from '../outbox/paths.js';
import { sampleEvent } from '../outbox/testing/sample-events.js';
import { runCli } from './program.js';
import { fakeIo as makeFakeIo, type FakeIo } from './testing/fake-io.js';
import type { AgentHandle, CreateAgent } from './run.js';

const NOW = Date.UTC(2026, 10, 22, 9, 0, 0);
let dir: string;
let dataDir: string;

function fakeIo(env: NodeJS.ProcessEnv = { ROADWATCH_DATA: dataDir }, clock = () => NOW): FakeIo {
  return makeFakeIo(env, clock);
}

function eventsFile(lines: string[]): string {
  const file = join(dir, 'events.jsonl');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'roadwatch-cli-'));
  dataDir = join(dir, 'data', 'agent');
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('roadwatch replay', () => {
  it('imports without credentials, lists bad lines by number and exits 1 when some were skipped', async () => {
    const file = eventsFile([JSON.stringify(sampleEvent(0)), JSON.stringify(sampleEvent(1, { lat: 95 })), JSON.stringify(sampleEvent(2)), '{oops']);
    const io = fakeIo();
    expect(await runCli(['replay', '--events', file], io)).toBe(1);
    expect(io.out()).toContain(`imported 2 events into ${outboxPath(dataDir)}`);
    expect(io.out()).toContain('skipped 2 bad lines:\n  line 2: lat: lat out of range (−90…90)\n  line 4: not valid JSON: ');
    expect(io.err()).toBe('');
    expect(existsSync(outboxPath(dataDir))).toBe(true);
  });

  it('exits 0 when everything was imported, and prints JSON with --json', async () => {
    const file = eventsFile([JSON.stringify(sampleEvent(0)), JSON.stringify(sampleEvent(1))]);
    const io = fakeIo();
    expect(await runCli(['replay', '--events', file, '--json'], io)).toBe(0);
    expect(JSON.parse(io.out())).toEqual({ file, outbox: outboxPath(dataDir), imported: 2, skipped: 0, errors: [], unlistedErrors: 0 });
  });

  it('takes --config after the command, accepts credentials when present, rejects unknown keys', async () => {
    const config = join(dir, 'agent.json');
    writeFileSync(config, JSON.stringify({ dataDir: join(dir, 'from-file'), deviceId: 'veh-1', hubUrl: 'mqtt://127.0.0.1:1883' }));
    const file = eventsFile([JSON.stringify(sampleEvent(0))]);
    const io = fakeIo({ ROADWATCH_DEVICE_SECRET: 's3cret' });
    expect(await runCli(['replay', '--events', file, '--config', config], io)).toBe(0);
    expect(existsSync(outboxPath(join(dir, 'from-file')))).toBe(true);

    writeFileSync(config, JSON.stringify({ dataDir, colour: 'red', hubUrl: 'http://x' }));
    const bad = fakeIo({});
    expect(await runCli(['--config', config, 'replay', '--events', file], bad)).toBe(2);
    expect(bad.err()).toMatch(/^roadwatch: invalid agent configuration \(file .*agent\.json and environment\):/);
    expect(bad.err()).toContain('colour');
    expect(bad.err()).toContain('hub URL must look like');
    expect(bad.err()).not.toContain('    at ');
  });

  it('a missing file is a fatal error with the fix, no stack, exit 2', async () => {
    const io = fakeIo();
    expect(await runCli(['replay', '--events', join(dir, 'nope.jsonl')], io)).toBe(2);
    expect(io.err()).toBe(`roadwatch: events file ${join(dir, 'nope.jsonl')}: not found — pass the path of an existing JSONL file (one event per line) with --events\n`);
  });

  it('a usage error exits 2', async () => {
    const io = fakeIo();
    expect(await runCli(['replay'], io)).toBe(2);
    expect(io.err()).toBe('roadwatch: give one of --video FILE and --frames DIR — with --nmea FILE for the drive’s GPS log\n');
  });
});

describe('roadwatch queue', () => {
  it('reports an outbox that does not exist yet without creating it', async () => {
    const io = fakeIo();
    expect(await runCli(['queue', '--json'], io)).toBe(0);
    expect(JSON.parse(io.out())).toEqual({
      path: outboxPath(dataDir),
      exists: false,
      depth: 0,
      bytes: 0,
      newestSeq: null,
      oldestCreatedAt: null,
      oldestUnsyncedAgeS: null,
      lastAckAt: null,
      evictedTotal: 0,
    });
    expect(existsSync(dataDir)).toBe(false);
  });

  it('shows depth, bytes, oldest unsynced age, last ack and evictions', async () => {
    const file = eventsFile([JSON.stringify(sampleEvent(0)), JSON.stringify(sampleEvent(1)), JSON.stringify(sampleEvent(2))]);
    const written = NOW - 2 * 3_600_000 - 5 * 60_000;
    expect(await runCli(['replay', '--events', file], fakeIo(undefined, () => written))).toBe(0);

    const json = fakeIo();
    expect(await runCli(['queue', '--json'], json)).toBe(0);
    const report = JSON.parse(json.out()) as Record<string, unknown>;
    expect(report).toMatchObject({ exists: true, depth: 3, newestSeq: 3, oldestCreatedAt: new Date(written).toISOString(), oldestUnsyncedAgeS: 7500, lastAckAt: null, evictedTotal: 0 });
    expect(report.bytes).toBeGreaterThan(900);

    const human = fakeIo();
    expect(await runCli(['queue'], human)).toBe(0);
    expect(human.out()).toMatch(/^outbox +\S+outbox\.sqlite\n/);
    expect(human.out()).toContain('depth            3 events\n');
    expect(human.out()).toContain(`oldest unsynced  2h 05m (since ${new Date(written).toISOString()})`);
    expect(human.out()).toContain('last ack         never\n');
    expect(human.out()).toContain('evicted total    0\n');
  });
});

describe('roadwatch (global)', () => {
  it('--version prints the agent package version', async () => {
    const io = fakeIo();
    expect(await runCli(['--version'], io)).toBe(0);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(io.out()).toBe(`${pkg.version}\n`);
  });

  it('runs as a real process with the exit codes of the contract', () => {
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const file = eventsFile([JSON.stringify(sampleEvent(0)), 'bad']);
    const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH, ROADWATCH_DATA: dataDir } });
    const replay = run(['replay', '--events', file]);
    expect(replay.status, replay.stderr).toBe(1);
    expect(replay.stdout).toContain('imported 1 event into');
    const missing = run(['replay', '--events', join(dir, 'missing.jsonl')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^roadwatch: events file .*missing\.jsonl: not found/);
  }, 30_000);
});

describe('roadwatch run', () => {
  const env = () => ({ ROADWATCH_DATA: dataDir, ROADWATCH_DEVICE_ID: 'veh-0042', ROADWATCH_DEVICE_SECRET: 'secret', ROADWATCH_HUB_URL: 'mqtt://127.0.0.1:1883', ROADWATCH_LOG_LEVEL: 'silent' });

  function fakeAgent() {
    const calls: string[] = [];
    let finishStop: () => void = () => {};
    let seen: AgentConfig | undefined;
    const handle: AgentHandle = {
      start: async () => void calls.push('start'),
      stop: () => {
        calls.push('stop');
        return new Promise<void>((resolve) => (finishStop = resolve));
      },
    };
    const create: CreateAgent = (config) => ((seen = config), handle);
    return { calls, create, finishStop: () => finishStop(), config: () => seen };
  }

  it('starts the agent, stops it on SIGTERM and exits 0', async () => {
    const agent = fakeAgent();
    const io = fakeIo(env());
    const done = runCli(['run'], io, { loadCreateAgent: async () => agent.create });
    await vi.waitFor(() => expect(agent.calls).toContain('start'));
    expect(agent.config()).toMatchObject({ deviceId: 'veh-0042', dataDir });
    io.signals.emit('SIGTERM');
    expect(agent.calls).toEqual(['start', 'stop']);
    agent.finishStop();
    expect(await done).toBe(0);
    expect(io.exits).toEqual([0]);
    expect(io.signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('a second signal exits at once', async () => {
    const agent = fakeAgent();
    const io = fakeIo(env());
    void runCli(['run'], io, { loadCreateAgent: async () => agent.create });
    await vi.waitFor(() => expect(agent.calls).toContain('start'));
    io.signals.emit('SIGINT');
    io.signals.emit('SIGINT');
    expect(io.exits).toEqual([130]);
    expect(agent.calls).toEqual(['start', 'stop']);
  });

  it('needs the credentials, naming each missing one', async () => {
    const io = fakeIo({ ROADWATCH_DATA: dataDir });
    expect(await runCli(['run'], io, { loadCreateAgent: async () => fakeAgent().create })).toBe(2);
    expect(io.err()).toContain('deviceId');
    expect(io.err()).toContain('deviceSecret');
    expect(io.err()).toContain('hubUrl');
  });

  it('an unexpected error prints its stack and exits 2', async () => {
    const io = fakeIo(env());
    const code = await runCli(['run'], io, {
      loadCreateAgent: async () => () => {
        throw new Error('boom');
      },
    });
    expect(code).toBe(2);
    expect(io.err()).toMatch(/^roadwatch: unexpected error\nError: boom\n\s+at /);
  });
});
