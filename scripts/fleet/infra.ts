// The hub side of a fleet run, started privately: real `roadwatch-hub serve` processes (built hub,
// `npm run build`), either one with its embedded aedes broker, or R replicas in scale-out mode on a
// private Mosquitto run from deploy/mosquitto (the scale-out tests' helper). Vehicles are provisioned
// before the hubs start (PGlite allows one process at a time), in the broker's password file too.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { newSecret } from '../../hub/src/services/secrets.js';
import { findMosquitto, startMosquitto, type TestMosquitto } from '../../hub/src/broker-external/testing/mosquitto.js';
import { HUB_BIN, spawnNode, type ManagedProcess } from '../../test/support/processes.js';
import { provisionFleet, type Credentials } from './provision.js';
import { processCpuSeconds } from './stats.js';

export type BrokerKind = 'embedded' | 'mosquitto';

export interface FleetHubOptions {
  broker: BrokerKind;
  /** Hub replicas (mosquitto only; the embedded broker is one hub). */
  replicas?: number;
  /** Postgres, or undefined for PGlite under dataDir (one replica). */
  databaseUrl: string | undefined;
  /** Working directory: hub data directories live under it. */
  dir: string;
  deviceIds: readonly string[];
  /** Reuse secrets from an earlier run (see ProvisionOptions.cacheFile). */
  credentialsCache?: string;
  hubEnv?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export interface FleetHub {
  /** Where vehicles connect. */
  vehicleUrl: string;
  credentials: Credentials[];
  provisionSeconds: number;
  hubs: ManagedProcess[];
  mosquitto: TestMosquitto | null;
  /** Named processes to measure CPU of. */
  processes(): Array<{ name: string; pid: number }>;
  stop(): Promise<void>;
}

const HUB_USER = 'roadwatch-hub';

export async function startFleetHub(o: FleetHubOptions): Promise<FleetHub> {
  const log = o.log ?? (() => {});
  const replicas = o.broker === 'embedded' ? 1 : Math.max(1, o.replicas ?? 1);
  if (!o.databaseUrl && replicas > 1) throw new Error('several hub replicas need Postgres (PGlite serves one process)');
  const hubPassword = newSecret();
  let mosquitto: TestMosquitto | null = null;
  const hubs: ManagedProcess[] = [];
  let stopping = false;
  const stop = async () => {
    stopping = true;
    await Promise.all(hubs.map((h) => h.kill('SIGTERM')));
    await mosquitto?.dispose();
  };
  try {
    if (o.broker === 'mosquitto') {
      const binary = findMosquitto();
      if (!binary) throw new Error('the mosquitto binary is needed for --broker mosquitto (apt-get install mosquitto)');
      mosquitto = await startMosquitto(binary, { [HUB_USER]: hubPassword });
    }
    const hubDirs = Array.from({ length: replicas }, (_, i) => join(o.dir, `hub-${i + 1}`));
    for (const d of hubDirs) mkdirSync(d, { recursive: true });
    const provisioned = await provisionFleet({
      databaseUrl: o.databaseUrl,
      dataDir: hubDirs[0]!,
      deviceIds: o.deviceIds,
      mosquittoPasswd: mosquitto?.passwdFile,
      cacheFile: o.credentialsCache,
      onProgress: (done, total) => log(`  provisioned ${done}/${total}`),
    });
    log(`provisioned ${o.deviceIds.length} vehicles (${provisioned.issued} new secrets, ${provisioned.reused} reused) in ${provisioned.seconds.toFixed(1)} s`);
    if (mosquitto) {
      mosquitto.reload();
      await new Promise((r) => setTimeout(r, 500));
    }
    for (let i = 0; i < replicas; i++) {
      const env: NodeJS.ProcessEnv = {
        ROADWATCH_HUB_DATA: hubDirs[i],
        ROADWATCH_HUB_HOST: '127.0.0.1',
        ROADWATCH_HUB_HTTP_PORT: '0',
        ROADWATCH_HUB_MQTT_PORT: '0',
        ROADWATCH_HUB_LOG_LEVEL: 'info',
        DATABASE_URL: o.databaseUrl ?? '',
        ...(mosquitto
          ? { ROADWATCH_HUB_MQTT_URL: mosquitto.hubUrl, ROADWATCH_HUB_MQTT_USERNAME: HUB_USER, ROADWATCH_HUB_MQTT_PASSWORD: hubPassword, ROADWATCH_HUB_MQTT_CLIENT_ID: `fleet-hub-${i + 1}` }
          : {}),
        ...o.hubEnv,
      };
      const proc = spawnNode(HUB_BIN, ['serve'], env, `hub-${i + 1}`);
      // The hubs' warnings and errors as they happen (the first 100 of each hub), with the time into the run.
      let shown = 0;
      const t0 = performance.now();
      proc.onLine = (line) => {
        if (typeof line.level !== 'number' || line.level < 40 || shown >= 100) return;
        const { level, time, pid, hostname, msg, ...rest } = line;
        void time, pid, hostname;
        log(`  [hub ${i + 1} ${level >= 50 ? 'error' : 'warn'} at ${((performance.now() - t0) / 1000).toFixed(0)} s] ${msg} ${JSON.stringify(rest).slice(0, 300)}${++shown === 100 ? ' (further warnings of this hub not shown)' : ''}`);
      };
      void proc.exited.then((code) => {
        if (!stopping) log(`hub ${i + 1} exited unexpectedly (code ${code}):\n${proc.tail(15)}`);
      });
      hubs.push(proc);
    }
    const started = await Promise.all(hubs.map((h) => h.waitForLog((l) => l.msg === 'hub started', 60_000)));
    const vehicleUrl = mosquitto ? mosquitto.deviceUrl : `mqtt://127.0.0.1:${Number(started[0]!.mqttPort)}`;
    const mosquittoPid = mosquitto ? findPid(join(dirname(mosquitto.passwdFile), 'mosquitto.conf')) : null;
    return {
      vehicleUrl,
      credentials: provisioned.credentials,
      provisionSeconds: provisioned.seconds,
      hubs,
      mosquitto,
      processes: () => [
        ...hubs.map((h, i) => ({ name: `hub ${i + 1}`, pid: h.child.pid! })),
        ...(mosquittoPid ? [{ name: 'mosquitto', pid: mosquittoPid }] : []),
      ],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The pid of the process whose command line contains `needle`. */
function findPid(needle: string): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) return Number(entry);
    } catch {
      // gone
    }
  }
  return null;
}

/** CPU seconds each named process used between `begin()` and `end()`. */
export function cpuMeter(processes: Array<{ name: string; pid: number }>, extra: Array<{ name: string; read: () => number }> = []) {
  const read = () => [...processes.map((p) => ({ name: p.name, cpu: processCpuSeconds(p.pid) ?? 0 })), ...extra.map((e) => ({ name: e.name, cpu: e.read() }))];
  let start = read();
  let t = performance.now();
  return {
    begin() {
      start = read();
      t = performance.now();
    },
    end(): Array<{ name: string; cpuSeconds: number; cores: number }> {
      const seconds = (performance.now() - t) / 1000;
      return read().map((p, i) => ({ name: p.name, cpuSeconds: p.cpu - start[i]!.cpu, cores: (p.cpu - start[i]!.cpu) / seconds }));
    },
  };
}
