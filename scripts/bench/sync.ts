// bench:sync — drain 1,000,000 buffered events from a real agent outbox through the hub's real
// MQTT broker into real Postgres, then COPY the same rows into the same table as the reference.
// Usage: npm run bench:sync [-- --events 1000000]   (Postgres: ROADWATCH_BENCH_DATABASE_URL,
// else ROADWATCH_TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { to as copyTo, from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import pino from 'pino';
import { SqliteOutbox } from '../../agent/src/outbox/sqlite-outbox.js';
import { outboxPath } from '../../agent/src/outbox/paths.js';
import { makeEvents } from '../../test/support/events.js';
import { HubProcess } from '../../test/support/hub.js';
import { startAgent } from '../../test/support/agent.js';
import { fmt, table, writeSection } from './report.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, 'no-write': { type: 'boolean', default: false } } });
const total = Number(values.events);
const adminUrl = process.env.ROADWATCH_BENCH_DATABASE_URL ?? process.env.ROADWATCH_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const COLUMNS = '(event_id, device_id, seq, ts, clock, lat, lon, accuracy_m, speed_kmh, heading_deg, class, confidence, hits, bbox, frame_w, frame_h, model, batch_id, received_at)';

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rw-bench-sync-'));
  const dbName = `rw_bench_${Date.now().toString(36)}`;
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${dbName}`));
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  // Info level: the harness reads the chosen ports from the hub's 'listening' log lines.
  const hub = await new HubProcess({ dataDir: join(dir, 'hub'), databaseUrl }).start();
  let agent: ReturnType<typeof startAgent> | undefined;
  try {
    const { secret } = await hub.addDevice('bench-van');
    const agentDir = join(dir, 'agent');
    console.log(`filling the outbox with ${fmt(total)} events…`);
    const outbox = SqliteOutbox.open({ path: outboxPath(agentDir), logger: pino({ level: 'warn' }), maxBytes: 64 * 2 ** 30, maxAgeMs: 365 * 86_400_000 });
    const template = makeEvents(1000, 3);
    for (let done = 0; done < total; done += 1000) outbox.append(template.slice(0, Math.min(1000, total - done)) as never);
    outbox.close();

    console.log('draining through MQTT into Postgres…');
    const started = performance.now();
    agent = startAgent({ dataDir: agentDir, deviceId: 'bench-van', secret, hubUrl: hub.mqttUrl, env: { ROADWATCH_LOG_LEVEL: 'warn' } });
    let stored = 0;
    await withClient(databaseUrl, async (c) => {
      while (stored < total) {
        await new Promise((r) => setTimeout(r, 100));
        stored = Number((await c.query('SELECT count(*)::int AS n FROM detections')).rows[0].n);
        if (!agent!.running) throw new Error(`agent exited early:\n${agent!.tail()}`);
      }
    });
    const syncSeconds = (performance.now() - started) / 1000;
    await agent.kill('SIGTERM');

    console.log('reference: COPY of the same rows into the same table…');
    const copySeconds = await withClient(databaseUrl, async (c) => {
      const chunks: Buffer[] = [];
      await pipeline(c.query(copyTo(`COPY (SELECT ${COLUMNS.slice(1, -1)} FROM detections) TO STDOUT`)), new Writable({ write(chunk: Buffer, _e, cb) { chunks.push(chunk); cb(); } }));
      await c.query('TRUNCATE detections');
      await c.query('CHECKPOINT');
      const t0 = performance.now();
      await pipeline(Readable.from(chunks), c.query(copyFrom(`COPY detections ${COLUMNS} FROM STDIN`)));
      return (performance.now() - t0) / 1000;
    });

    const syncRate = total / syncSeconds;
    const copyRate = total / copySeconds;
    const ratio = syncRate / copyRate;
    const body = `Drains ${fmt(total)} events buffered in one agent's outbox through the hub's embedded aedes broker (MQTT over TCP on loopback, QoS 1, acks after commit) into Postgres (\`INSERT … ON CONFLICT DO NOTHING\` per batch), against a \`COPY … FROM STDIN\` of the same rows into the same table (same indexes) in the same run. Targets: ≥ 20,000 events/s and ≥ 0.3 of COPY.

${table([
  { path: 'agent outbox → MQTT → hub → Postgres', events: fmt(total), seconds: fmt(syncSeconds, 1), 'events/s': fmt(syncRate) },
  { path: 'COPY into detections (reference)', events: fmt(total), seconds: fmt(copySeconds, 1), 'events/s': fmt(copyRate) },
])}

Ratio sync / COPY: **${fmt(ratio, 2)}** (target ≥ 0.30). Sync rate target ≥ 20,000 events/s: **${syncRate >= 20_000 ? 'met' : 'missed'}**.`;
    console.log(`\n${body}`);
    if (!values['no-write']) writeSection('sync', 'Sync: outbox → MQTT → hub → Postgres (bench:sync)', body);
  } finally {
    if (agent?.running) await agent.kill('SIGKILL');
    await hub.stop();
    await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
