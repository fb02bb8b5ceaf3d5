import { DeviceIdSchema, UserError } from '@roadwatch/shared';
import type { HubConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { DeviceSummary } from '../services/ports.js';
import { openHubAccess } from './hub-access.js';
import type { CliIo } from './io.js';

export interface DevicesAddOptions {
  rotate?: boolean;
  json?: boolean;
}

/** `roadwatch-hub devices add <deviceId> [--rotate] [--json]`: prints the new secret once. */
export async function devicesAdd(deviceId: string, options: DevicesAddOptions, config: HubConfig, io: CliIo, logger: Logger): Promise<number> {
  const valid = DeviceIdSchema.safeParse(deviceId);
  if (!valid.success) throw new UserError(`invalid device id "${deviceId}"`, valid.error.issues[0]?.message ?? 'see the protocol docs');
  const access = await openHubAccess(config, logger);
  try {
    const { secret } = await access.devices.add(deviceId, { rotate: options.rotate ?? false });
    if (options.json) {
      io.stdout(`${JSON.stringify({ deviceId, secret })}\n`);
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
          '',
        ].join('\n'),
      );
    }
    return 0;
  } finally {
    await access.close();
  }
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
export async function devicesRotateSecret(deviceId: string, options: { json?: boolean }, config: HubConfig, io: CliIo, logger: Logger): Promise<number> {
  const access = await openHubAccess(config, logger);
  try {
    await requireDevice(deviceId, access.devices);
    const { secret } = await access.devices.add(deviceId, { rotate: true });
    if (options.json) {
      io.stdout(`${JSON.stringify({ deviceId, secret })}\n`);
    } else {
      io.stdout(
        [
          `Device ${deviceId} has a new secret (via ${access.via}); the old one no longer works.`,
          '',
          `  secret: ${secret}`,
          '',
          'Store it now: it will not be shown again (only a hash is kept).',
          `On the vehicle: ROADWATCH_DEVICE_SECRET=${secret} in /etc/roadwatch/agent.env, then systemctl restart roadwatch-agent`,
          '',
        ].join('\n'),
      );
    }
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
export async function devicesRevoke(deviceId: string, options: { json?: boolean }, config: HubConfig, io: CliIo, logger: Logger): Promise<number> {
  const access = await openHubAccess(config, logger);
  try {
    const device = await requireDevice(deviceId, access.devices);
    await access.devices.add(deviceId, { rotate: true }); // the new secret is dropped here, unseen
    logger.info({ deviceId }, 'device revoked (secret replaced by one nobody holds)');
    if (options.json) {
      io.stdout(`${JSON.stringify({ deviceId, revoked: true, state: device.state })}\n`);
    } else {
      io.stdout(
        [
          `Device ${deviceId} revoked (via ${access.via}): its secret no longer works, from its next connection on.`,
          ...(device.state === 'online' ? ['It is online now: that session lasts until it disconnects (or the hub restarts).'] : []),
          `Its stored events stay. To let it back in: roadwatch-hub devices rotate-secret ${deviceId}`,
          '',
        ].join('\n'),
      );
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
