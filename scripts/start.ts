// `npm start`: a hub on its embedded defaults (aedes + PGlite) plus one agent running the real
// sensing pipeline on a simulated drive (rendered once by the drive simulator: a video and its NMEA
// log, played in real time as camera and GPS), then prints what to open. Logs go to data/logs/ so
// this terminal stays readable.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ensureDrive } from './drive/recorded.js';
import { loadTruth } from './drive/score.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const hubBin = `${root}hub/bin/roadwatch-hub.js`;
const agentBin = `${root}agent/bin/roadwatch.js`;
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

  const drive = `${dataDir}/demo-drive`;
  console.log('rendering the simulated drive (once; kept in data/demo-drive)…');
  await ensureDrive(drive, ['--seed', '950010', '--length-m', '800', '--width', '640', '--height', '360', '--stop-s', '10', '--video']);
  const truth = await loadTruth(drive);
  mkdirSync(`${dataDir}/agent`, { recursive: true });
  const config = `${dataDir}/agent/config.json`;
  writeFileSync(
    config,
    JSON.stringify({
      camera: { source: 'file', path: `${drive}/drive.mkv`, width: 640, height: 360, realtime: true },
      gps: { source: 'file', file: `${drive}/drive.nmea` },
    }, null, 2),
  );
  const agentEnv = { ROADWATCH_DEVICE_ID: deviceId, ROADWATCH_DEVICE_SECRET: secret, ROADWATCH_HUB_URL: `mqtt://127.0.0.1:${ports.mqtt}`, ROADWATCH_DATA: `${dataDir}/agent` };
  console.log(`starting agent ${deviceId}: camera = the drive's video, GPS = its NMEA log, both in real time (${truth.durationS.toFixed(0)} s, ${truth.defects.length} defects on the road)…`);
  const api = `http://localhost:${ports.http}`;
  const token = await readToken(api, hubEnv);
  const before = await detectionCount(api, token);
  let ended = false;
  startLogged('agent', [agentBin, '--config', config, 'run'], agentEnv, (line) => {
    if (line.sensor === 'camera' && line.state === 'ended') ended = true;
  });

  const started = Date.now();
  let reported = -1;
  while (!ended && Date.now() - started < (truth.durationS + 60) * 1000) {
    await new Promise((r) => setTimeout(r, 2_000));
    const count = (await detectionCount(api, token)) - before;
    if (count !== reported) console.log(`  ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s  ${count} defects reported to the hub`);
    reported = count;
  }
  await new Promise((r) => setTimeout(r, 3_000));
  const reportedTotal = (await detectionCount(api, token)) - before;
  console.log(`
roadwatch is running — the drive is over: ${reportedTotal} defects reported (${truth.defects.length} on the road; docs/SENSING.md)
  REST API   ${api}
             curl -H "Authorization: Bearer ${token}" '${api}/api/v1/detections?limit=5'
             curl ${api}/health/ready
             (a read-only API token, kept in ${dataDir}/api-token; roadwatch-hub tokens --help)
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

/**
 * A `read` API token for the REST API: the one kept in data/api-token while the hub still accepts it,
 * else a new one from `roadwatch-hub tokens create` (through the running hub's admin API).
 */
async function readToken(api: string, hubEnv: NodeJS.ProcessEnv): Promise<string> {
  const file = `${dataDir}/api-token`;
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    const probe = await fetch(`${api}/api/v1/detections?limit=1`, { headers: { Authorization: `Bearer ${kept}` } }).catch(() => null);
    await probe?.body?.cancel();
    if (probe?.ok) return kept;
  }
  const name = `npm-start-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')}`;
  const created = await run([hubBin, 'tokens', 'create', '--name', name, '--scope', 'read', '--json'], hubEnv);
  if (created.code !== 0) fail(`could not create an API token: ${created.err.trim()}`);
  const { token } = JSON.parse(created.out.trim().split('\n').pop()!) as { token: string };
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

async function detectionCount(api: string, token: string): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const response = await fetch(`${api}/api/v1/detections?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers: { Authorization: `Bearer ${token}` } }).catch(() => null);
    if (!response?.ok) return count;
    const page = (await response.json()) as { items: unknown[]; nextCursor: string | null };
    count += page.items.length;
    cursor = page.nextCursor;
  } while (cursor);
  return count;
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
