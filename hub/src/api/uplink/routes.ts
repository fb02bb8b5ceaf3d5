import type { Ack } from '@roadwatch/shared';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { BatchIngest, DeviceRegistry, IngestOutcome } from '../../services/ports.js';
import type { AppEnv } from '../env.js';
import { ApiError, errorEnvelope, type ErrorEnvelope } from '../errors.js';

/** The HTTPS uplink (listed in access.ts DEVICE_CREDENTIAL_ROUTES: no API token, device credentials instead). */
export const UPLINK_ROUTE = '/api/v1/devices/:deviceId/events';
export const UPLINK_METRIC = 'roadwatch_hub_uplink_requests_total';
const REALM = 'roadwatch-devices';
/** Seconds a device is asked to wait before resending after a 503. */
const RETRY_AFTER_S = 10;

export type UplinkResult = 'acked' | 'invalid' | 'unauthorized' | 'forbidden' | 'too_large' | 'unavailable' | 'shutting_down';

export interface UplinkRoutesOptions {
  ingest: BatchIngest;
  devices: Pick<DeviceRegistry, 'verify'>;
  /** uplink.maxBodyBytes: larger bodies get 413 before anything is read into memory or stored. */
  maxBodyBytes: number;
  /** False once the hub is stopping: new batches get 503 `shutting_down` and the device resends later. */
  accepting?: () => boolean;
  registry: Registry;
  logger: Logger;
}

const INVALID_CODES: Record<NonNullable<IngestOutcome['invalid']>['kind'], string> = {
  json: 'invalid_json',
  envelope: 'invalid_batch',
  device_mismatch: 'device_mismatch',
};

/**
 * `POST /api/v1/devices/{deviceId}/events`: the MQTT uplink's batch over HTTPS, for devices that
 * cannot use MQTT. The device authenticates with HTTP Basic (user name = device id, password = its
 * secret: the credentials the broker checks, through the same DeviceRegistry.verify) and may post
 * only under its own id. The body goes through the same ingest service as an MQTT publish, and
 * the response body is the same ack: sent only after the transaction committed.
 *
 * 200 ack · 400 unusable batch (quarantined, nothing lost; `ack` included when the batch id was
 * readable, so the device drops it as it would on an MQTT ack with `error`) · 401 credentials ·
 * 403 another device's id · 413 body over uplink.maxBodyBytes · 503 database down or hub stopping
 * (with Retry-After; the device resends, ingest is idempotent).
 */
export function uplinkRoutes(options: UplinkRoutesOptions): Hono<AppEnv> {
  const { ingest, devices, maxBodyBytes, accepting = () => true } = options;
  const log = options.logger.child({ component: 'uplink' });
  const requests = uplinkCounter(options.registry);
  /** Counts a refusal and returns its error, to be thrown. */
  const refuse = (result: UplinkResult, error: ApiError): ApiError => {
    requests.inc({ result });
    return error;
  };

  const gate: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (!accepting()) {
      throw refuse('shutting_down', new ApiError(503, 'shutting_down', 'the hub is shutting down: resend this batch later (to another replica, if there is one)', { 'Retry-After': String(RETRY_AFTER_S) }));
    }
    await next();
  };

  const deviceAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
    const deviceId = c.req.param('deviceId') ?? '';
    const credentials = parseBasic(c.req.header('Authorization'));
    const challenge = { 'WWW-Authenticate': `Basic realm="${REALM}", charset="UTF-8"` };
    if (!credentials) {
      log.warn({ deviceId, requestId: c.get('requestId'), reason: 'missing_credentials' }, 'uplink refused');
      throw refuse(
        'unauthorized',
        new ApiError(401, 'unauthorized', 'missing device credentials: send HTTP Basic authentication with the device id as user name and its secret as password (roadwatch-hub devices add prints the secret)', challenge),
      );
    }
    const { user, secret } = credentials;
    let ok: boolean;
    try {
      ok = await devices.verify(user, secret);
    } catch (err) {
      log.error({ err, deviceId: user, requestId: c.get('requestId') }, 'device credential check failed');
      throw refuse('unavailable', unavailable('cannot check device credentials: the database is unreachable'));
    }
    if (!ok) {
      log.warn({ deviceId: user, requestId: c.get('requestId'), reason: 'bad_credentials' }, 'uplink refused');
      throw refuse(
        'unauthorized',
        new ApiError(401, 'unauthorized', `unknown device or wrong secret for "${printable(user)}": check the device id and secret (roadwatch-hub devices add <id> --rotate issues a new one)`, challenge),
      );
    }
    if (user !== deviceId) {
      log.warn({ deviceId: user, pathDeviceId: deviceId, requestId: c.get('requestId') }, 'uplink refused: another device id in the URL');
      throw refuse('forbidden', new ApiError(403, 'forbidden_device', `device ${user} may only post its own events: use POST /api/v1/devices/${user}/events`));
    }
    await next();
  };

  const limit = bodyLimit({
    maxSize: maxBodyBytes,
    onError: () => {
      throw refuse(
        'too_large',
        new ApiError(413, 'payload_too_large', `request body is larger than uplink.maxBodyBytes (${maxBodyBytes} bytes): send smaller batches (the agent's uplink.batchMaxBytes)`),
      );
    },
  });

  const app = new Hono<AppEnv>();
  app.post(UPLINK_ROUTE, gate, deviceAuth, limit, async (c) => {
    const deviceId = c.req.param('deviceId');
    const body = new Uint8Array(await c.req.arrayBuffer());
    let outcome: IngestOutcome;
    try {
      outcome = await ingest.ingest(deviceId, body, 'http');
    } catch (err) {
      log.error({ err, deviceId, bytes: body.length, requestId: c.get('requestId') }, 'batch ingest failed; not acked, the device will resend it');
      throw refuse('unavailable', unavailable('the batch could not be stored: the database is unavailable'));
    }
    if (outcome.invalid || !outcome.ack) {
      requests.inc({ result: 'invalid' });
      const kind = outcome.invalid?.kind ?? 'json';
      const reason = outcome.invalid?.reason ?? 'the batch has no usable batchId';
      const message =
        kind === 'device_mismatch'
          ? `deviceId in the batch does not match the device in the URL (${deviceId}): put the device's own id in the batch`
          : `${kind === 'json' ? 'request body is not a JSON batch' : 'invalid batch'}: ${reason} — the batch was quarantined; fix the sender (protocol v1, docs/PROTOCOL.md)`;
      const refused: ErrorEnvelope & { ack?: Ack } = errorEnvelope(c, INVALID_CODES[kind], message);
      if (outcome.ack) refused.ack = outcome.ack;
      return c.json(refused, 400);
    }
    requests.inc({ result: 'acked' });
    return c.json(outcome.ack, 200);
  });
  return app;
}

function unavailable(what: string): ApiError {
  return new ApiError(503, 'unavailable', `${what}; nothing was stored — resend in ${RETRY_AFTER_S} s`, { 'Retry-After': String(RETRY_AFTER_S) });
}

function uplinkCounter(registry: Registry): Counter<'result'> {
  return (
    (registry.getSingleMetric(UPLINK_METRIC) as Counter<'result'> | undefined) ??
    new Counter({ name: UPLINK_METRIC, help: 'HTTPS uplink requests by result: acked, invalid, unauthorized, forbidden, too_large, unavailable, shutting_down', labelNames: ['result'] as const, registers: [registry] })
  );
}

/** `Basic base64(user:secret)` (RFC 7617, UTF-8), or null when absent or malformed. */
export function parseBasic(header: string | undefined): { user: string; secret: string } | null {
  const match = header === undefined ? null : /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header);
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { user: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** A user name echoed in a message: at most 64 printable characters. */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
}
