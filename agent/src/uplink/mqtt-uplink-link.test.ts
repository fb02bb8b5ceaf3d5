import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createTlsServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Aedes } from 'aedes';
import { connect, connectAsync, type MqttClient } from 'mqtt';
import { UserError, deviceTopic, newBatchId } from '@roadwatch/shared';
import { sampleEvents } from '../outbox/testing/sample-events.js';
import { MqttUplink } from './mqtt-uplink.js';
import { FakeHub } from './testing/fake-hub.js';
import { memoryLogger, tempOutbox, testConfig, waitFor } from './testing/harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function agentFor(hubUrl: string, uplink: Record<string, unknown> = {}, deviceId = 'veh-link') {
  const { logger, lines } = memoryLogger();
  const box = tempOutbox(logger);
  cleanups.push(box.cleanup);
  const config = testConfig({ hubUrl, deviceId, dataDir: box.dir, uplink });
  const clients: MqttClient[] = [];
  const up = new MqttUplink({
    config,
    outbox: box.outbox,
    logger,
    mqttConnect: (url, options) => {
      const client = connect(url, options);
      clients.push(client);
      return client;
    },
  });
  cleanups.push(() => up.stop());
  return { uplink: up, outbox: box.outbox, lines, clients, config };
}

describe('MqttUplink link handling (real TCP)', () => {
  it('reconnects after a broker restart and resends the unsettled rows', async () => {
    let hub = await FakeHub.start({ mode: 'never' });
    const port = hub.port;
    const { uplink, outbox } = agentFor(hub.url, { batchMaxEvents: 50, backoffMinMs: 50, backoffMaxMs: 300 });
    outbox.append(sampleEvents(500));
    await uplink.start();
    await waitFor('batches sent to the first broker', () => hub.batches.length >= 2);
    await hub.close();
    await waitFor('link lost', () => uplink.snapshot().state !== 'online');
    expect(outbox.stats().depth).toBe(500);

    hub = await FakeHub.start({ port, mode: 'ack' });
    cleanups.push(() => hub.close());
    await waitFor('backlog drained through the new broker', () => outbox.stats().depth === 0);
    expect(hub.storedCount).toBe(500);
    // the new broker had no session: the uplink resubscribed to its acks itself
    const snap = uplink.snapshot();
    expect(snap.connects).toBeGreaterThanOrEqual(2);
    expect(snap.batchesResent).toBeGreaterThanOrEqual(1);
    expect(snap.state).toBe('online');
  });

  it('leaves a retained offline last will when its socket dies', async () => {
    const hub = await FakeHub.start();
    cleanups.push(() => hub.close());
    // A long backoff keeps the agent away after the socket dies, so the will stays the retained status.
    const { uplink, clients, config } = agentFor(hub.url, { backoffMinMs: 30_000, backoffMaxMs: 30_000 });
    await uplink.start();
    await waitFor('online', () => uplink.snapshot().state === 'online');
    clients[0]!.stream.destroy();
    await waitFor('backoff', () => uplink.snapshot().state === 'backoff');

    // Whether it arrives live or as the retained message, the will reaches a subscriber...
    const first = await observeStatus(hub.url, config.deviceId);
    await waitFor('will published', () => first.some((m) => m.payload === '{"v":1,"state":"offline"}'));
    // ...and stays retained for anyone who subscribes later.
    const late = await observeStatus(hub.url, config.deviceId);
    await waitFor('retained will', () => late.length > 0);
    expect(late).toEqual([{ payload: '{"v":1,"state":"offline"}', retain: true }]);
  });

  it('logs refused credentials with the fix and keeps retrying', async () => {
    const hub = await FakeHub.start({
      aedes: {
        authenticate: (_client, _user, _pass, done) => done(Object.assign(new Error('bad secret'), { returnCode: 4 as const }), false),
      },
    });
    cleanups.push(() => hub.close());
    const { uplink, lines } = agentFor(hub.url, { backoffMinMs: 20, backoffMaxMs: 100 });
    await uplink.start();
    await waitFor('two refused attempts', () => uplink.snapshot().authFailures >= 2);
    const errors = lines.filter((l) => l.level === 50);
    expect(errors[0]).toMatchObject({ module: 'uplink', msg: 'hub rejected device credentials — check ROADWATCH_DEVICE_SECRET or re-issue with roadwatch-hub devices add' });
    expect(uplink.snapshot().state).not.toBe('online');
  });

  it('speaks TLS to an mqtts:// hub with a private CA, and names a missing CA file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roadwatch-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    makeCertificates(dir);
    const broker = await Aedes.createBroker();
    const received: string[] = [];
    broker.subscribe('roadwatch/v1/devices/+/events', (packet, cb) => {
      const batch = JSON.parse(packet.payload.toString()) as { batchId: string; events: { eventId: string }[] };
      received.push(batch.batchId);
      const ack = { v: 1, batchId: batch.batchId, stored: batch.events.map((e) => e.eventId), duplicates: 0, rejected: [] };
      broker.publish({ cmd: 'publish', topic: deviceTopic('veh-tls', 'acks'), payload: Buffer.from(JSON.stringify(ack)), qos: 1, retain: false, dup: false }, () => {});
      cb();
    }, () => {});
    const server = createTlsServer({ key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.crt')) }, broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => broker.close(() => server.close(() => resolve()))));
    const port = (server.address() as AddressInfo).port;

    const missing = agentFor(`mqtts://localhost:${port}`, { caFile: join(dir, 'nope.pem') }, 'veh-tls');
    await expect(missing.uplink.start()).rejects.toThrow(UserError);
    await expect(missing.uplink.start()).rejects.toThrow(/hub CA file .*nope\.pem: not found — set uplink\.caFile/);

    const untrusting = agentFor(`mqtts://localhost:${port}`, {}, 'veh-tls');
    await untrusting.uplink.start();
    await waitFor('certificate refused without the CA', () => /certificate/i.test(untrusting.uplink.snapshot().lastError ?? ''));
    expect(untrusting.uplink.snapshot().connects).toBe(0);
    await untrusting.uplink.stop();

    const { uplink, outbox } = agentFor(`mqtts://localhost:${port}`, { caFile: join(dir, 'ca.crt') }, 'veh-tls');
    outbox.append(sampleEvents(120));
    await uplink.start();
    await waitFor('drained over TLS', () => outbox.stats().depth === 0);
    expect(received.length).toBeGreaterThanOrEqual(1);
  });
});

async function observeStatus(url: string, deviceId: string): Promise<{ payload: string; retain: boolean }[]> {
  const observer = await connectAsync(url, { clientId: `observer-${newBatchId()}`, clean: true, protocolVersion: 4, reconnectPeriod: 0 });
  cleanups.push(() => observer.endAsync(true));
  const seen: { payload: string; retain: boolean }[] = [];
  observer.on('message', (_t, payload, packet) => seen.push({ payload: payload.toString(), retain: packet.retain }));
  await observer.subscribeAsync(deviceTopic(deviceId, 'status'), { qos: 1 });
  return seen;
}

function makeCertificates(dir: string): void {
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=roadwatch test CA');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  execFileSync('sh', ['-c', 'printf "subjectAltName=DNS:localhost,IP:127.0.0.1\\n" > ext.cnf'], { cwd: dir });
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'ext.cnf');
}
