// Fleet simulator CLI (docs/FLEET.md): N simulated vehicles with real credentials over real MQTT.
//
//   npx tsx scripts/fleet/simulate.ts --mode steady --vehicles 500 --rate 4 --duration 30
//   npx tsx scripts/fleet/simulate.ts --mode herd --vehicles 100 --backlog 1000 --broker mosquitto --replicas 2
//   npx tsx scripts/fleet/simulate.ts --mode flap --vehicles 200 --url mqtt://hub:1883 --database-url postgres://…
//
// Without --url it starts its own hub(s) (built hub: npm run build) on the database (default
// postgres://postgres@127.0.0.1:5432/roadwatch_fleet, created when missing) and, with
// --broker mosquitto, a private Mosquitto. With --url it drives an existing hub or broker: the
// vehicles are registered in --database-url (the hub's database) and, with --mosquitto-passwd, in
// that password file (reload Mosquitto before the run: the CLI waits --reload-wait-s for it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import pino from 'pino';
import { openDatabase } from '../../hub/src/db/client.js';
import { FLEET_MODES, runFleet, type FleetMode } from './fleet.js';
import { cpuMeter, startFleetHub, type BrokerKind, type FleetHub } from './infra.js';
import { fleetDeviceIds, provisionFleet, type Credentials } from './provision.js';
import { commandCpuSeconds, costPerEvent } from './stats.js';
import { lastSeqs, verifyExactlyOnce } from './verify.js';
import { databaseUrlFor, ensureDatabase, report, summary } from './output.js';

const USAGE = `usage: simulate.ts --mode steady|herd|flap [--vehicles N] [--broker embedded|mosquitto] [--replicas R]
  [--rate EV/S] [--batch-interval-ms MS] [--duration S] [--warmup S]      (steady, flap)
  [--backlog K]                                                            (herd)
  [--drop-after-publish P] [--flap-mean-s S]                               (flap)
  [--batch-events N] [--max-in-flight N] [--ack-timeout-ms MS] [--status-interval-ms MS] [--seed N]
  [--database-url URL] [--url MQTT_URL [--mosquitto-passwd FILE] [--reload-wait-s S]] [--prefix ID_PREFIX] [--json]`;

const { values } = parseArgs({
  options: {
    mode: { type: 'string' },
    vehicles: { type: 'string', default: '100' },
    broker: { type: 'string', default: 'embedded' },
    replicas: { type: 'string', default: '1' },
    rate: { type: 'string', default: '4' },
    'batch-interval-ms': { type: 'string', default: '5000' },
    duration: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
    backlog: { type: 'string', default: '1000' },
    'drop-after-publish': { type: 'string', default: '0.05' },
    'flap-mean-s': { type: 'string', default: '10' },
    'batch-events': { type: 'string', default: '500' },
    'max-in-flight': { type: 'string', default: '4' },
    'ack-timeout-ms': { type: 'string', default: '30000' },
    'status-interval-ms': { type: 'string', default: '30000' },
    seed: { type: 'string', default: '42' },
    'database-url': { type: 'string' },
    url: { type: 'string' },
    'mosquitto-passwd': { type: 'string' },
    'reload-wait-s': { type: 'string', default: '0' },
    prefix: { type: 'string', default: 'sim' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

function num(name: keyof typeof values): number {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: not a number (${String(values[name])})\n${USAGE}`);
  return n;
}

async function main(): Promise<void> {
  if (values.help || !values.mode) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const mode = values.mode as FleetMode;
  if (!FLEET_MODES.includes(mode)) throw new Error(`--mode: one of ${FLEET_MODES.join(', ')}\n${USAGE}`);
  const broker = values.broker as BrokerKind;
  if (broker !== 'embedded' && broker !== 'mosquitto') throw new Error(`--broker: embedded or mosquitto\n${USAGE}`);
  const databaseUrl = values['database-url'] ?? databaseUrlFor('roadwatch_fleet');
  const ids = fleetDeviceIds(num('vehicles'), values.prefix);
  const log = values.json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  await ensureDatabase(databaseUrl);
  const dir = mkdtempSync(join(tmpdir(), 'rw-fleet-'));
  let hub: FleetHub | null = null;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  try {
    let url: string;
    let credentials: Credentials[];
    if (values.url) {
      url = values.url;
      const p = await provisionFleet({ databaseUrl, dataDir: dir, deviceIds: ids, mosquittoPasswd: values['mosquitto-passwd'], onProgress: (d, t) => log(`  provisioned ${d}/${t}`) });
      credentials = p.credentials;
      log(`provisioned ${ids.length} vehicles in ${p.seconds.toFixed(1)} s${values['mosquitto-passwd'] ? ` (and in ${values['mosquitto-passwd']}: reload Mosquitto)` : ''}`);
      await new Promise((r) => setTimeout(r, num('reload-wait-s') * 1000));
    } else {
      hub = await startFleetHub({ broker, replicas: num('replicas'), databaseUrl, dir, deviceIds: ids, log });
      url = hub.vehicleUrl;
      credentials = hub.credentials;
    }
    const database = await openDatabase({ databaseUrl, dataDir: dir, logger: pino({ level: 'warn' }), poolSize: 2 });
    const seqBefore = await lastSeqs(database.db, ids).catch(async (error: unknown) => {
      await database.close();
      throw error;
    });
    const meterCpu = () => cpuMeter(hub?.processes() ?? [], [{ name: 'postgres (all backends of the server)', read: () => commandCpuSeconds('postgres') }, { name: 'simulator', read: () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; } }]);
    const cpu = meterCpu();
    const result = await runFleet({
      mode,
      url,
      credentials,
      rate: num('rate'),
      batchIntervalMs: num('batch-interval-ms'),
      durationS: num('duration'),
      warmupS: num('warmup'),
      backlog: num('backlog'),
      dropAfterPublish: num('drop-after-publish'),
      flapMeanS: num('flap-mean-s'),
      batchEvents: num('batch-events'),
      maxInFlight: num('max-in-flight'),
      ackTimeoutMs: num('ack-timeout-ms'),
      statusIntervalMs: num('status-interval-ms'),
      seed: num('seed'),
      keepIds: ids.length * (mode === 'herd' ? num('backlog') : num('rate') * num('duration')) <= 2_000_000,
      seqBefore,
      meterCpu,
      countStored: async () => Number((await pool.query('select count(*)::bigint as n from detections')).rows[0].n),
      log,
    });
    const cpuUse = cpu.end();
    const verified = await verifyExactlyOnce(database.db, result.perVehicle, result.stats.eventIds).finally(() => database.close());
    if (values.json) console.log(JSON.stringify({ ...summary(result, verified), cpu: cpuUse }, null, 2));
    else {
      console.log(`\n${report(result, verified)}`);
      for (const c of cpuUse) console.log(`  CPU ${c.name}: ${c.cpuSeconds.toFixed(1)} s (${c.cores.toFixed(2)} cores)`);
      if (result.windowCpu && result.storedRows) console.log(`  CPU per event stored in the window: ${costPerEvent(result.windowCpu, result.storedRows).line}`);
    }
    if (!verified.ok) process.exitCode = 1;
  } finally {
    await pool.end();
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
