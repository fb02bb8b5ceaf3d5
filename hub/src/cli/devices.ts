import { DeviceIdSchema, UserError } from '@roadwatch/shared';
import type { HubConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { DeviceSummary } from '../services/ports.js';
import { openHubAccess } from './hub-access.js';
import type { CliIo } from './io.js';
import { checkPasswdFileWritable, removeMosquittoUser, setMosquittoPassword, type PasswdResult } from './mosquitto-passwd.js';

/** `--mosquitto-passwd FILE`: also write the device's credentials to an external Mosquitto's password file (docs/SCALE-OUT.md). */
export interface BrokerPasswdOption {
  mosquittoPasswd?: string;
}

export interface DevicesAddOptions extends BrokerPasswdOption {
  rotate?: boolean;
  json?: boolean;
}

/** `roadwatch-hub devices add <deviceId> [--rotate] [--mosquitto-passwd FILE] [--json]`: prints the new secret once. */
export async function devicesAdd(deviceId: string, options: DevicesAddOptions, config: HubConfig, io: CliIo, logger: Logger): Promise<number> {
  const valid = DeviceIdSchema.safeParse(deviceId);
  if (!valid.success) throw new UserError(`invalid device id "${deviceId}"`, valid.error.issues[0]?.message ?? 'see the protocol docs');
  checkBrokerPasswd(deviceId, options, config);
  const access = await openHubAccess(config, logger);
  try {
    const { secret } = await access.devices.add(deviceId, { rotate: options.rotate ?? false });
    const passwd = writeBrokerPasswd(deviceId, secret, options);
    if (options.json) {
      io.stdout(`${JSON.stringify({ deviceId, secret, ...passwdJson(passwd) })}\n`);
    } else {
      io.stdout(
        [
          `Device ${deviceId} ${options.rotate ? 'has a new secret' : 'added'} (via ${access.via}).`,
          '',
          `  secret: ${secret}`,
          '',
          'Store it now: it will not be shown again (only a hash is kept).',
          `Lost it? Issue a new one with: roadwatch-hub devices add ${deviceId} --rotate`,
          `On the vehicle: ROADWATCH_DEVICE_ID=${deviceId} ROADWATCH_DEVICE_SECRET=${secret}`,
          ...passwdLines(passwd),
          '',
        ].join('\n'),
      );
    }
    externalBrokerNote(passwd, config, io);
    return 0;
  } finally {
    await access.close();
  }
}

/** Before anything is registered: the password file can be written and the id is not the hub's own broker user. */
function checkBrokerPasswd(deviceId: string, options: BrokerPasswdOption, config: HubConfig): void {
  if (!options.mosquittoPasswd) return;
  const hubUser = config.mqtt.username ?? 'roadwatch-hub';
  if (deviceId === hubUser) {
    throw new UserError(`device id ${deviceId} is the hub's own user on the broker`, 'pick another device id (the broker would give the device the hub\'s rights)');
  }
  checkPasswdFileWritable(options.mosquittoPasswd);
}

function writeBrokerPasswd(deviceId: string, secret: string, options: BrokerPasswdOption): PasswdResult | null {
  if (!options.mosquittoPasswd) return null;
  try {
    return setMosquittoPassword(options.mosquittoPasswd, deviceId, secret);
  } catch (error) {
    const why = error instanceof UserError ? error.message : (error as Error).message;
    throw new UserError(
      `device ${deviceId} was registered with the hub but ${options.mosquittoPasswd} was not written (${why})`,
      `fix that, then run roadwatch-hub devices rotate-secret ${deviceId} --mosquitto-passwd ${options.mosquittoPasswd}`,
    );
  }
}

function passwdJson(passwd: PasswdResult | null): Record<string, unknown> {
  return passwd ? { mosquittoPasswd: { file: passwd.file, change: passwd.change, created: passwd.created } } : {};
}

function passwdLines(passwd: PasswdResult | null): string[] {
  if (!passwd) return [];
  const what = passwd.change === 'removed' ? 'removed from' : passwd.change === 'absent' ? 'was not in' : passwd.change === 'added' ? 'added to' : 'updated in';
  return [
    `Broker: ${what} ${passwd.file}${passwd.created ? ' (created, mode 0600: let the broker\'s user read it, e.g. chown mosquitto: FILE)' : ''}.`,
    'Reload Mosquitto so it reads the file: systemctl reload mosquitto (or kill -HUP <mosquitto pid>).',
  ];
}

/** In scale-out mode a device the broker does not know cannot connect: say so when no password file was written. */
function externalBrokerNote(passwd: PasswdResult | null, config: HubConfig, io: CliIo): void {
  if (passwd || !config.mqtt.url) return;
  io.stderr(
    'note: this hub uses an external MQTT broker (mqtt.url): the vehicle connects once the broker knows these credentials — ' +
      'add --mosquitto-passwd FILE (Mosquitto) or register them with your broker (docs/SCALE-OUT.md)\n',
  );
}

/** Throws a UserError naming the fix when `deviceId` is not a valid id or not registered. */
async function requireDevice(deviceId: string, devices: { list(): Promise<DeviceSummary[]> }): Promise<DeviceSummary> {
  const valid = DeviceIdSchema.safeParse(deviceId);
  if (!valid.success) throw new UserError(`invalid device id "${deviceId}"`, valid.error.issues[0]?.message ?? 'see the protocol docs');
  const found = (await devices.list()).find((d) => d.deviceId === deviceId);
  if (!found) throw new UserError(`no device ${deviceId}`, 'roadwatch-hub devices list shows the registered ones; devices add <deviceId> registers a new one');
  return found;
}

/**
 * `roadwatch-hub devices rotate-secret <deviceId> [--json]`: a new secret for a registered device,
 * printed once; the old one stops working at the device's next connection. Unlike `add --rotate`
 * it never registers a device that does not exist (a typo stays an error).
 */
export async function devicesRotateSecret(deviceId: string, options: { json?: boolean } & BrokerPasswdOption, config: HubConfig, io: CliIo, logger: Logger): Promise<number> {
  const access = await openHubAccess(config, logger);
  try {
    await requireDevice(deviceId, access.devices);
    checkBrokerPasswd(deviceId, options, config);
    const { secret } = await access.devices.add(deviceId, { rotate: true });
    const passwd = writeBrokerPasswd(deviceId, secret, options);
    if (options.json) {
      io.stdout(`${JSON.stringify({ deviceId, secret, ...passwdJson(passwd) })}\n`);
    } else {
      io.stdout(
        [
          `Device ${deviceId} has a new secret (via ${access.via}); the old one no longer works.`,
          '',
          `  secret: ${secret}`,
          '',
          'Store it now: it will not be shown again (only a hash is kept).',
          `On the vehicle: ROADWATCH_DEVICE_SECRET=${secret} in /etc/roadwatch/agent.env, then systemctl restart roadwatch-agent`,
          ...passwdLines(passwd),
          '',
        ].join('\n'),
      );
    }
    externalBrokerNote(passwd, config, io);
    return 0;
  } finally {
    await access.close();
  }
}

/**
 * `roadwatch-hub devices revoke <deviceId> [--json]`: the device can no longer log in. Its secret
 * is replaced by a random one that is never shown (only its hash is stored), so every hub replica
 * refuses the old secret from the next connection on; its stored events stay. A session already
 * open ends when the vehicle disconnects (or the hub restarts). To let it back in:
 * `devices rotate-secret`.
 */
export async function devicesRevoke(deviceId: string, options: { json?: boolean } & BrokerPasswdOption, config: HubConfig, io: CliIo, logger: Logger): Promise<number> {
  const access = await openHubAccess(config, logger);
  try {
    const device = await requireDevice(deviceId, access.devices);
    checkBrokerPasswd(deviceId, options, config);
    await access.devices.add(deviceId, { rotate: true }); // the new secret is dropped here, unseen
    logger.info({ deviceId }, 'device revoked (secret replaced by one nobody holds)');
    const passwd = options.mosquittoPasswd ? removeMosquittoUser(options.mosquittoPasswd, deviceId) : null;
    if (options.json) {
      io.stdout(`${JSON.stringify({ deviceId, revoked: true, state: device.state, ...passwdJson(passwd) })}\n`);
    } else {
      io.stdout(
        [
          `Device ${deviceId} revoked (via ${access.via}): its secret no longer works, from its next connection on.`,
          ...(device.state === 'online' ? ['It is online now: that session lasts until it disconnects (or the hub restarts).'] : []),
          `Its stored events stay. To let it back in: roadwatch-hub devices rotate-secret ${deviceId}`,
          ...passwdLines(passwd),
          '',
        ].join('\n'),
      );
    }
    if (!passwd && config.mqtt.url) {
      io.stderr('note: this hub uses an external MQTT broker (mqtt.url): the vehicle can still log in there until the broker forgets it — add --mosquitto-passwd FILE (Mosquitto) or remove it from your broker (docs/SCALE-OUT.md)\n');
    }
    return 0;
  } finally {
    await access.close();
  }
}

/** `roadwatch-hub devices list [--json]`. */
export async function devicesList(options: { json?: boolean }, config: HubConfig, io: CliIo, logger: Logger): Promise<number> {
  const access = await openHubAccess(config, logger);
  try {
    const items = await access.devices.list();
    io.stdout(options.json ? `${JSON.stringify(items)}\n` : formatTable(items));
    return 0;
  } finally {
    await access.close();
  }
}

function formatTable(items: DeviceSummary[]): string {
  if (items.length === 0) return 'No devices yet. Add one with: roadwatch-hub devices add <deviceId>\n';
  const rows = [['DEVICE', 'STATE', 'LAST SEEN', 'CREATED'], ...items.map((d) => [d.deviceId, d.state, d.lastSeenAt ?? '-', d.createdAt])];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  return `${rows.map((r) => r.map((cell, col) => cell.padEnd(widths[col]!)).join('  ').trimEnd()).join('\n')}\n`;
}
