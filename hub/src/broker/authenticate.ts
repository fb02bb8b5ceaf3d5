import type { AuthErrorCode, AuthenticateError, AedesOptions, Client } from 'aedes';
import { DEVICE_ID_PATTERN } from '@roadwatch/shared';
import type { Logger } from 'pino';
import type { DeviceRegistry } from '../services/ports.js';
import type { BrokerMetrics } from './metrics.js';

/** CONNACK return codes (MQTT 3.1.1 §3.2.2.3); aedes declares them as an ambient const enum. */
const SERVER_UNAVAILABLE = 3 as AuthErrorCode;
const BAD_USERNAME_OR_PASSWORD = 4 as AuthErrorCode;

export type AuthFailureReason = 'client_id_mismatch' | 'invalid_device_id' | 'missing_password' | 'bad_credentials' | 'error';

export interface AuthenticatorOptions {
  devices: Pick<DeviceRegistry, 'verify'>;
  logger: Logger;
  metrics: Pick<BrokerMetrics, 'authFailures'>;
}

/** Pure part: what is wrong with the CONNECT's identity before the registry is asked, or null. */
export function checkIdentity(clientId: string, username: string | undefined, password: Buffer | undefined): AuthFailureReason | null {
  if (username === undefined || username !== clientId) return 'client_id_mismatch';
  if (!DEVICE_ID_PATTERN.test(username)) return 'invalid_device_id';
  if (!password || password.length === 0) return 'missing_password';
  return null;
}

/**
 * aedes `authenticate` handler: client id = username = device id, password = the device secret
 * (checked by the registry against its slow-KDF hash). A refusal is a CONNACK "bad username or
 * password", logged at warn with the device id and counted by reason. A registry failure (database
 * down) answers "server unavailable" so the agent simply retries later.
 */
export function createAuthenticator({ devices, logger, metrics }: AuthenticatorOptions): NonNullable<AedesOptions['authenticate']> {
  const refuse = (client: Client, username: string | undefined, reason: AuthFailureReason, returnCode: AuthErrorCode): AuthenticateError => {
    metrics.authFailures.inc({ reason });
    logger.warn({ deviceId: username ?? null, clientId: client.id, reason }, 'mqtt connection refused');
    const error = new Error(returnCode === SERVER_UNAVAILABLE ? 'server unavailable' : 'bad username or password') as AuthenticateError;
    error.returnCode = returnCode;
    return error;
  };

  return (client, username, password, done) => {
    const problem = checkIdentity(client.id, username, password);
    if (problem) {
      done(refuse(client, username, problem, BAD_USERNAME_OR_PASSWORD), false);
      return;
    }
    const deviceId = username as string;
    devices.verify(deviceId, (password as Buffer).toString('utf8')).then(
      (ok) => {
        if (ok) done(null, true);
        else done(refuse(client, deviceId, 'bad_credentials', BAD_USERNAME_OR_PASSWORD), false);
      },
      (error: unknown) => {
        logger.error({ deviceId, err: error }, 'device credential check failed');
        done(refuse(client, deviceId, 'error', SERVER_UNAVAILABLE), false);
      },
    );
  };
}
