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
