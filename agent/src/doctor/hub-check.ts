import { lookup } from 'node:dns/promises';
import { connect as netConnect, isIP } from 'node:net';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { connect as mqttConnect, type IClientOptions, type MqttClient } from 'mqtt';
import { PROTOCOL_VERSION, deviceTopic, type Status } from '@roadwatch/shared';
import type { AgentConfig } from '../config/schema.js';
import { AUTH_ERROR } from '../control/status.js';
import { buildConnectOptions } from '../uplink/connect-options.js';
import { deadline, fail, pass, skip, splitHint, type DoctorContext, type Outcome } from './types.js';

const CREDENTIALS = 'check ROADWATCH_DEVICE_SECRET (and ROADWATCH_DEVICE_ID); a lost or revoked secret: issue a new one on the hub with roadwatch-hub devices rotate-secret <deviceId>';
const CONNACK: Record<number, { what: string; hint: string }> = {
  1: { what: 'unacceptable protocol version', hint: 'the hub is not a roadwatch hub (MQTT 3.1.1 expected): check ROADWATCH_HUB_URL' },
  2: { what: 'client identifier rejected', hint: 'the client id is the deviceId: check ROADWATCH_DEVICE_ID' },
  3: { what: 'server unavailable (the hub cannot check credentials now, its database may be down)', hint: 'try again later; the hub’s /health/ready says what is down' },
  4: { what: 'bad user name or password', hint: CREDENTIALS },
  5: { what: 'not authorized', hint: CREDENTIALS },
};

interface Target {
  url: string;
  tls: boolean;
  host: string;
  port: number;
}

/**
 * The way to the hub, step by step: DNS, TCP connect, TLS handshake (mqtts), MQTT CONNECT with the
 * device credentials, and a round trip — a status publish (QoS 1) answered by the hub's PUBACK, which
 * the hub sends after storing it. A step that fails skips the ones after it. When the service runs
 * it holds the device's MQTT session (one client id per device): CONNECT and the round trip are then
 * read from its uplink instead of connecting a second time.
 */
export async function checkHub(ctx: DoctorContext): Promise<Outcome[]> {
  const url = ctx.config?.hubUrl ?? ctx.field?.hubUrl ?? ctx.service?.uplink.hubUrl;
  if (!url) return ['hub.dns', 'hub.tcp', 'hub.tls', 'hub.mqtt', 'hub.roundtrip'].map((id) => skip(id, 'no hub URL configured (ROADWATCH_HUB_URL)'));
  const target = parse(url);
  const out: Outcome[] = [];
  const skipRest = (from: string[], why: string) => out.push(...from.map((id) => skip(id, why)));

  const dns = await checkDns(target, ctx.timeoutMs);
  out.push(dns.outcome);
  if (!dns.address) {
    skipRest(['hub.tcp', 'hub.tls', 'hub.mqtt', 'hub.roundtrip'], 'not tried: the hub’s name does not resolve');
    return out;
  }
  const tcp = await checkTcp(target, dns.address, ctx.timeoutMs);
  out.push(tcp);
  if (tcp.status === 'fail') {
    skipRest(['hub.tls', 'hub.mqtt', 'hub.roundtrip'], 'not tried: no TCP connection');
    return out;
  }
  const tls = target.tls ? await checkTls(target, dns.address, ctx) : skip('hub.tls', `${target.url} is plain MQTT: the device secret crosses the network unencrypted — use mqtts:// outside a private network`);
  out.push(tls);
  if (tls.status === 'fail') {
    skipRest(['hub.mqtt', 'hub.roundtrip'], 'not tried: no TLS session');
    return out;
  }
  if (ctx.service) {
    out.push(...fromService(ctx));
    return out;
  }
  if (!ctx.config) {
    skipRest(['hub.mqtt', 'hub.roundtrip'], 'not tried: the config is invalid (device id, secret)');
    return out;
  }
  out.push(...(await checkMqtt(target, ctx.config, ctx)));
  return out;
}

function parse(url: string): Target {
  const u = new URL(url);
  const tls = u.protocol === 'mqtts:';
  return { url: url.replace(/\/\/[^@/]*@/, '//'), tls, host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : tls ? 8883 : 1883 };
}

async function checkDns(t: Target, timeoutMs: number): Promise<{ outcome: Outcome; address: string | null }> {
  if (isIP(t.host)) return { outcome: pass('hub.dns', `${t.host} is an IP address: no lookup needed`), address: t.host };
  try {
    const found = await deadline(lookup(t.host, { all: true }), timeoutMs, `DNS lookup of ${t.host}`);
    const addresses = found.map((a) => a.address);
    return { outcome: pass('hub.dns', `${t.host} → ${addresses.slice(0, 3).join(', ')}`, { addresses }), address: addresses[0] ?? null };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND') return { outcome: fail('hub.dns', `${t.host}: no such host name`, 'check the host in ROADWATCH_HUB_URL (a typo?); DNS servers in use: resolvectl status'), address: null };
    return { outcome: fail('hub.dns', `${t.host}: no DNS answer (${code ?? (error as Error).message})`, 'no network, or no DNS server: check the modem or Wi-Fi (ip route; resolvectl status)'), address: null };
  }
}

function checkTcp(t: Target, address: string, timeoutMs: number): Promise<Outcome> {
  const where = `${address}:${t.port}`;
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = netConnect({ host: address, port: t.port });
    const done = (outcome: Outcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done(fail('hub.tcp', `no answer from ${where} within ${(timeoutMs / 1000).toFixed(0)} s`, 'a firewall drops the connection, or the hub host is down')), timeoutMs);
    socket.once('connect', () => done(pass('hub.tcp', `${where} accepts connections (${Math.round(performance.now() - started)} ms)`, { address, port: t.port, ms: Math.round(performance.now() - started) })));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const code = error.code;
      if (code === 'ECONNREFUSED') done(fail('hub.tcp', `connection refused by ${where}`, 'nothing listens there: is the hub running, and is the port in ROADWATCH_HUB_URL right?', { code }));
      else if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') done(fail('hub.tcp', `no route to ${where} (${code})`, 'no network: check the modem or Wi-Fi (ip route)', { code }));
      else done(fail('hub.tcp', `cannot connect to ${where}: ${error.message}`, 'check the network and ROADWATCH_HUB_URL', { code }));
    });
  });
}

function tlsOptions(config: AgentConfig | null, ctx: DoctorContext): { ca?: Buffer | string | string[] | Buffer[]; rejectUnauthorized: boolean } {
  const source = config ?? (ctx.field as AgentConfig);
  const options = buildConnectOptions({ ...source, deviceId: source.deviceId ?? 'doctor', deviceSecret: source.deviceSecret ?? '', hubUrl: source.hubUrl } as AgentConfig);
  return { ca: options.ca as Buffer | undefined, rejectUnauthorized: options.rejectUnauthorized ?? true };
}

const TLS_HINTS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'the hub’s certificate has expired — renew it; or this vehicle’s clock is wrong (see the clock check)',
  CERT_NOT_YET_VALID: 'this vehicle’s clock is probably wrong (see the clock check)',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the hub uses its own CA: set ROADWATCH_HUB_CA_FILE to the CA’s PEM file',
  SELF_SIGNED_CERT_IN_CHAIN: 'the hub uses a private CA: set ROADWATCH_HUB_CA_FILE to its PEM file',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'set ROADWATCH_HUB_CA_FILE to the PEM file of the CA that signed the hub’s certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'set ROADWATCH_HUB_CA_FILE to the PEM file of the CA that signed the hub’s certificate',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the certificate is for another name: use the name it was issued for in ROADWATCH_HUB_URL',
};

function checkTls(t: Target, address: string, ctx: DoctorContext): Promise<Outcome> {
  let options: ReturnType<typeof tlsOptions>;
  try {
    options = tlsOptions(ctx.config, ctx);
  } catch (error) {
    const { detail, hint } = splitHint((error as Error).message);
    return Promise.resolve(fail('hub.tls', detail, hint));
  }
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: address, port: t.port, servername: isIP(t.host) ? undefined : t.host, ...options });
    const done = (outcome: Outcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done(fail('hub.tls', `no TLS handshake with ${t.host}:${t.port} within ${(ctx.timeoutMs / 1000).toFixed(0)} s`, 'is it a TLS port? mqtts:// is usually 8883, mqtt:// 1883')), ctx.timeoutMs);
    socket.once('secureConnect', () => {
      const cert: PeerCertificate = socket.getPeerCertificate();
      const subject = cert.subject?.CN ?? '?';
      done(pass('hub.tls', `${socket.getProtocol() ?? 'TLS'} with ${t.host}:${t.port}, certificate for ${subject} valid until ${cert.valid_to ?? '?'}`, { protocol: socket.getProtocol(), subject, validTo: cert.valid_to }));
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? '';
      done(fail('hub.tls', `TLS handshake with ${t.host}:${t.port} failed: ${error.message}${code && !error.message.includes(code) ? ` (${code})` : ''}`, TLS_HINTS[code] ?? 'is it a TLS port? mqtts:// is usually 8883, mqtt:// 1883', { code }));
    });
  });
}

async function checkMqtt(t: Target, config: AgentConfig, ctx: DoctorContext): Promise<Outcome[]> {
  const base = buildConnectOptions(config);
  const options: IClientOptions = { ...base, clean: true, will: undefined, reconnectPeriod: 0, connectTimeout: ctx.timeoutMs };
  const started = performance.now();
  let client: MqttClient | null = null;
  try {
    client = await new Promise<MqttClient>((resolve, reject) => {
      const c = mqttConnect(config.hubUrl, options);
      const timer = setTimeout(() => reject(Object.assign(new Error('no CONNACK'), { code: 'ETIMEDOUT' })), ctx.timeoutMs);
      c.once('connect', () => {
        clearTimeout(timer);
        resolve(c);
      });
      c.once('error', (error) => {
        clearTimeout(timer);
        c.end(true);
        reject(error);
      });
      c.once('close', () => {
        clearTimeout(timer);
        reject(Object.assign(new Error('the hub closed the connection before CONNACK'), { code: 'ECONNRESET' }));
      });
    });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const known = typeof code === 'number' ? CONNACK[code] : undefined;
    const out = known
      ? fail('hub.mqtt', `the hub refused CONNECT as ${config.deviceId}: CONNACK ${code as number}, ${known.what}`, known.hint, { connack: code })
      : code === 'ETIMEDOUT'
        ? fail('hub.mqtt', `no CONNACK from the hub within ${(ctx.timeoutMs / 1000).toFixed(0)} s`, 'is it an MQTT port? the hub may also be overloaded', { code })
        : fail('hub.mqtt', `MQTT CONNECT failed: ${(error as Error).message}`, 'check ROADWATCH_HUB_URL; see the hub log', { code: code ?? null });
    return [out, skip('hub.roundtrip', 'not tried: not connected')];
  }
  const connectMs = Math.round(performance.now() - started);
  const results: Outcome[] = [pass('hub.mqtt', `accepted as ${config.deviceId} (CONNACK 0) in ${connectMs} ms`, { ms: connectMs })];
  try {
    // The service is not running (else it would hold the session): the device is offline, and says so.
    const status: Status = { v: PROTOCOL_VERSION, state: 'offline', ts: new Date(ctx.wall()).toISOString() };
    const t0 = performance.now();
    await deadline(client.publishAsync(deviceTopic(config.deviceId, 'status'), JSON.stringify(status), { qos: 1, retain: true }), ctx.timeoutMs, 'PUBACK');
    const ms = Math.round(performance.now() - t0);
    results.push(pass('hub.roundtrip', `status published (QoS 1), the hub acknowledged it after ${ms} ms`, { ms }));
  } catch (error) {
    results.push(fail('hub.roundtrip', `the hub did not acknowledge a status publish: ${(error as Error).message}`, 'the hub closes connections that publish outside the device’s own topics: check ROADWATCH_DEVICE_ID; see the hub log'));
  } finally {
    await deadline(client.endAsync(), 2_000, 'disconnect').catch(() => client?.end(true));
  }
  return results;
}

function fromService(ctx: DoctorContext): Outcome[] {
  const uplink = ctx.service!.uplink;
  const data = { fromService: true, state: uplink.state, lastError: uplink.lastError, lastAckAt: uplink.lastAckAt };
  if (uplink.state === 'online') {
    const acked = uplink.lastAckAt ? `last hub ack at ${uplink.lastAckAt}` : 'no batch sent since it started';
    return [pass('hub.mqtt', `the service is connected to ${uplink.hubUrl} (it holds the device’s session)`, data), pass('hub.roundtrip', `the service is online: ${acked}`, data)];
  }
  const roundtrip = skip('hub.roundtrip', 'not tried: the service is not connected');
  if (uplink.lastError && AUTH_ERROR.test(uplink.lastError)) return [fail('hub.mqtt', `the hub refuses the service’s credentials: ${uplink.lastError}`, CREDENTIALS, data), roundtrip];
  return [fail('hub.mqtt', `the service is not connected (${uplink.state}${uplink.lastError ? `: ${uplink.lastError}` : ''})`, 'see the DNS/TCP/TLS checks above; roadwatch sync --now retries at once', data), roundtrip];
}
