import { loadConfig, UserError } from '@roadwatch/shared';
import { describe, expect, it } from 'vitest';
import { HUB_ENV, HubConfigSchema } from '../config/schema.js';
import { defaultClientId, externalConnection, redactMqttUrl } from './connection.js';

const load = (env: NodeJS.ProcessEnv) => loadConfig(HubConfigSchema, { env, bindings: HUB_ENV, what: 'hub' });

describe('scale-out configuration', () => {
  it('reads the external broker from the environment', () => {
    const config = load({
      ROADWATCH_HUB_MQTT_URL: 'mqtt://broker.internal:1884',
      ROADWATCH_HUB_MQTT_USERNAME: 'roadwatch-hub',
      ROADWATCH_HUB_MQTT_PASSWORD: 's3cret',
      ROADWATCH_HUB_MQTT_CLIENT_ID: 'roadwatch-hub-0',
      ROADWATCH_HUB_MQTT_SHARE_GROUP: 'rw-7f3a',
    });
    expect(config.mqtt).toMatchObject({ url: 'mqtt://broker.internal:1884', username: 'roadwatch-hub', password: 's3cret', clientId: 'roadwatch-hub-0', shareGroup: 'rw-7f3a', sessionExpiryS: 300 });
    const defaults = HubConfigSchema.parse({}).mqtt;
    expect(defaults.shareGroup).toBe('roadwatch-hub');
    expect(defaults.url).toBeUndefined(); // the embedded broker
  });

  it('names every contradiction at once', () => {
    const error = (() => {
      try {
        load({ ROADWATCH_HUB_MQTT_URL: 'tcp://broker', ROADWATCH_HUB_MQTT_SHARE_GROUP: 'a/b' });
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(UserError);
    expect(error!.message).toMatch(/mqtt\.url: mqtt\.url must look like mqtt:\/\/host:1883 .*\(set ROADWATCH_HUB_MQTT_URL/);
    expect(error!.message).toMatch(/mqtt\.shareGroup: mqtt\.shareGroup: 1–64 of/);

    const stray = HubConfigSchema.safeParse({ mqtt: { username: 'roadwatch-hub', password: 'x' } });
    expect(stray.success).toBe(false);
    expect(stray.error!.issues[0]!.message).toBe('mqtt.username, mqtt.password only apply to an external broker — set mqtt.url (ROADWATCH_HUB_MQTT_URL) too, or unset them');
  });
});

describe('externalConnection', () => {
  const base = HubConfigSchema.parse({ mqtt: { url: 'mqtt://roadwatch-hub:pw@broker:1884', ingestConcurrency: 6, sessionExpiryS: 120 } }).mqtt;

  it('MQTT 5 persistent session with a stable client id, bounded in-flight window and packet size, shared subscriptions, and a second connection for the acks', () => {
    const conn = externalConnection({ ...base, username: 'roadwatch-hub', password: 'pw' }, { hostname: () => 'hub-7c9f.example' });
    expect(conn.clientId).toBe('roadwatch-hub-hub-7c9f.example');
    expect(conn.subscriptions).toEqual(['$share/roadwatch-hub/roadwatch/v1/devices/+/events', '$share/roadwatch-hub/roadwatch/v1/devices/+/status']);
    expect(conn.options).toMatchObject({
      protocolVersion: 5,
      clean: false,
      clientId: 'roadwatch-hub-hub-7c9f.example',
      username: 'roadwatch-hub',
      password: 'pw',
      resubscribe: false,
      reconnectOnConnackError: true,
      keepalive: 180,
      properties: { sessionExpiryInterval: 120, receiveMaximum: 6, maximumPacketSize: base.maxPayloadBytes + 4096 },
    });
    // The acks' own connection: same login and session lifetime, its own client id, no in-flight window to bound.
    expect(conn.ackOptions).toMatchObject({ protocolVersion: 5, clean: false, clientId: 'roadwatch-hub-hub-7c9f.example-acks', username: 'roadwatch-hub', password: 'pw', keepalive: 30 });
    expect(conn.ackOptions.properties).toEqual({ sessionExpiryInterval: 120 });
    expect(conn.safeUrl).toBe('mqtt://roadwatch-hub:***@broker:1884');
    expect(externalConnection({ ...base, clientId: 'replica-2', shareGroup: 'g1' }).subscriptions[0]).toBe('$share/g1/roadwatch/v1/devices/+/events');
    expect(externalConnection({ ...base, clientId: 'replica-2' }).clientId).toBe('replica-2');
  });

  it('makes a client id from any host name and reads the CA of an mqtts:// broker', () => {
    expect(defaultClientId('pod name/with:odd chars')).toBe('roadwatch-hub-pod-name-with-odd-chars');
    expect(redactMqttUrl('mqtts://broker:8883')).toBe('mqtts://broker:8883');
    const ca = Buffer.from('-----BEGIN CERTIFICATE-----');
    const tls = externalConnection({ ...base, url: 'mqtts://broker:8883', caFile: '/etc/ca.pem' }, { readFile: () => ca });
    expect(tls.options).toMatchObject({ ca, rejectUnauthorized: true });
    expect(() => externalConnection({ ...base, url: 'mqtts://broker:8883', caFile: '/nope/ca.pem' })).toThrow(
      "mqtt.caFile /nope/ca.pem: not found — point ROADWATCH_HUB_MQTT_CA_FILE at the PEM CA that signed the external broker's certificate, readable by the hub's user",
    );
  });
});
