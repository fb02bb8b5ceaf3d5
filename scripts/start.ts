// `npm start`: a hub on its embedded defaults (aedes + PGlite) plus one agent that syncs a bundled
// sample drive, then prints what to open. Logs go to data/logs/ so this terminal stays readable.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const hubBin = `${root}hub/bin/roadwatch-hub.js`;
const agentBin = `${root}agent/bin/roadwatch.js`;
const sample = `${root}scripts/sample/events.jsonl`;
const dataDir = process.env.ROADWATCH_START_DATA ?? `${root}data`;
const deviceId = 'demo-van-01';
const host = process.env.ROADWATCH_HUB_HOST ?? '127.0.0.1';
const httpPort = Number(process.env.ROADWATCH_HUB_HTTP_PORT ?? 8080);
const mqttPort = Number(process.env.ROADWATCH_HUB_MQTT_PORT ?? 1883);

const children: ChildProcess[] = [];

function fail(message: string): never {
  console.error(`\nnpm start: ${message}\n`);
  for (const child of children) child.kill('SIGTERM');
  process.exit(1);
}

function portFree(port: number): Promise<boolean> {
  if (port === 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

function startLogged(name: string, args: string[], env: NodeJS.ProcessEnv, onLine: (line: Record<string, unknown>) => void): ChildProcess {
  mkdirSync(`${dataDir}/logs`, { recursive: true });
  const log = createWriteStream(`${dataDir}/logs/${name}.log`, { flags: 'a' });
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    log.write(chunk);
    buffer += chunk.toString();
    let i: number;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const text = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      try {
        onLine(JSON.parse(text) as Record<string, unknown>);
      } catch {
        /* not a log line */
      }
    }
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    log.write(chunk);
    stderr += chunk.toString();
  });
  child.on('exit', (code, signal) => {
    if (!stopping) fail(`${name} exited (${signal ?? code}).\n${stderr.trim() || `see ${dataDir}/logs/${name}.log`}`);
  });
  return child;
}

let stopping = false;
async function main(): Promise<void> {
  for (const [port, variable, what] of [
    [mqttPort, 'ROADWATCH_HUB_MQTT_PORT', 'MQTT (another broker such as mosquitto?)'],
    [httpPort, 'ROADWATCH_HUB_HTTP_PORT', 'HTTP'],
  ] as const) {
    if (!(await portFree(port))) {
      fail(`port ${port} on ${host} is already in use — the hub needs it for ${what}.\n` +
        `  Stop whatever holds it, or pick another port:  ${variable}=${port + 1} npm start\n` +
        `  (${variable}=0 picks a free port and prints it.)`);
    }
  }

  const hubEnv = { ROADWATCH_HUB_DATA: `${dataDir}/hub`, ROADWATCH_HUB_HOST: host, ROADWATCH_HUB_HTTP_PORT: String(httpPort), ROADWATCH_HUB_MQTT_PORT: String(mqttPort), DATABASE_URL: '' };
  const ports = { http: 0, mqtt: 0 };
  console.log('starting hub (embedded MQTT broker + embedded PGlite database)…');
  await new Promise<void>((resolve) => {
    startLogged('hub', [hubBin, 'serve'], hubEnv, (line) => {
      if (line.msg === 'http listening') ports.http = Number(line.port);
      if (line.msg === 'mqtt listening') ports.mqtt = Number(line.port);
      if (ports.http && ports.mqtt) resolve();
    });
  });

  let device = await run([hubBin, 'devices', 'add', deviceId, '--json'], hubEnv);
  if (device.code !== 0 && /already exists/.test(device.err)) device = await run([hubBin, 'devices', 'add', deviceId, '--rotate', '--json'], hubEnv);
  if (device.code !== 0) fail(`could not register ${deviceId}: ${device.err.trim()}`);
  const { secret } = JSON.parse(device.out.trim().split('\n').pop()!) as { secret: string };

  const agentEnv = { ROADWATCH_DEVICE_ID: deviceId, ROADWATCH_DEVICE_SECRET: secret, ROADWATCH_HUB_URL: `mqtt://127.0.0.1:${ports.mqtt}`, ROADWATCH_DATA: `${dataDir}/agent` };
  const marker = `${dataDir}/agent/.sample-imported`;
  if (!existsSync(marker)) {
    const imported = await run([agentBin, 'replay', '--events', sample, '--json'], agentEnv);
    if (imported.code !== 0) fail(`could not import the sample drive: ${imported.err.trim()}`);
    writeFileSync(marker, new Date().toISOString());
  }
  console.log(`starting agent ${deviceId} (no camera: outbox + uplink, syncing the sample drive)…`);
  startLogged('agent', [agentBin, 'run'], agentEnv, () => {});

  const deadline = Date.now() + 60_000;
  let depth = -1;
  while (Date.now() < deadline) {
    const queue = await run([agentBin, 'queue', '--json'], agentEnv);
    depth = queue.code === 0 ? Number((JSON.parse(queue.out) as { depth: number }).depth) : -1;
    if (depth === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const api = `http://localhost:${ports.http}`;
  console.log(`
roadwatch is running${depth === 0 ? ' — the sample drive is synced' : ` — ${depth} events still queued`}
  REST API   ${api}
             curl '${api}/api/v1/detections?limit=5'
             curl ${api}/health/ready
  MQTT       mqtt://localhost:${ports.mqtt}  (device ${deviceId})
  logs       ${dataDir}/logs/hub.log, agent.log
Ctrl-C stops both.`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(130);
    stopping = true;
    console.log('\nstopping agent and hub…');
    const exits = children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r))));
    for (const child of [...children].reverse()) child.kill('SIGTERM');
    void Promise.all(exits).then(() => process.exit(0));
  });
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
