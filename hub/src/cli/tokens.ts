import { UserError } from '@roadwatch/shared';
import type { HubConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { ServiceError } from '../services/errors.js';
import { isTokenScope, TOKEN_SCOPES, type TokenSummary } from '../services/tokens.js';
import { openHubAccess } from './hub-access.js';
import type { CliIo } from './io.js';

export interface TokensCreateOptions {
  name: string;
  scope: string;
  json?: boolean;
}

/** `roadwatch-hub tokens create --name NAME --scope read|ack|admin [--json]`: prints the token once. */
export async function tokensCreate(options: TokensCreateOptions, config: HubConfig, io: CliIo, logger: Logger): Promise<number> {
  const { name, scope } = options;
  if (!isTokenScope(scope)) throw new UserError(`invalid scope "${scope}"`, `use one of ${TOKEN_SCOPES.join(', ')} (read < ack < admin)`);
  const access = await openHubAccess(config, logger);
  try {
    const created = await asUserError(access.tokens.create({ name, scope }));
    if (options.json) {
      io.stdout(`${JSON.stringify(created)}\n`);
    } else {
      io.stdout(
        [
          `Token ${created.name} created with scope ${created.scope} (via ${access.via}).`,
          '',
          `  token: ${created.token}`,
          '',
          'Store it now: it will not be shown again (only a hash is kept).',
          `Use it with:  curl -H "Authorization: Bearer ${created.token}" http://<hub>:${config.httpPort}/api/v1/detections`,
          `Revoke it with: roadwatch-hub tokens revoke ${created.name}`,
          '',
        ].join('\n'),
      );
    }
    return 0;
  } finally {
    await access.close();
  }
}

/** `roadwatch-hub tokens list [--json]`: never shows the tokens, only their prefixes. */
export async function tokensList(options: { json?: boolean }, config: HubConfig, io: CliIo, logger: Logger): Promise<number> {
  const access = await openHubAccess(config, logger);
  try {
    const items = await access.tokens.list();
    io.stdout(options.json ? `${JSON.stringify(items)}\n` : formatTable(items));
    return 0;
  } finally {
    await access.close();
  }
}

/** `roadwatch-hub tokens revoke <name|id>`: the token stops working at once. */
export async function tokensRevoke(nameOrId: string, options: { json?: boolean }, config: HubConfig, io: CliIo, logger: Logger): Promise<number> {
  const access = await openHubAccess(config, logger);
  try {
    const before = (await access.tokens.list()).find((t) => t.name === nameOrId || t.id === nameOrId);
    const revoked = await asUserError(access.tokens.revoke(nameOrId), 'roadwatch-hub tokens list shows the names');
    if (options.json) io.stdout(`${JSON.stringify(revoked)}\n`);
    else if (before?.revokedAt) io.stdout(`Token ${revoked.name} was already revoked (${revoked.revokedAt}).\n`);
    else io.stdout(`Token ${revoked.name} revoked: it no longer works.\n`);
    return 0;
  } finally {
    await access.close();
  }
}

/** The service's not-found / conflict (direct database access) as the user's mistake they are. */
async function asUserError<T>(promise: Promise<T>, fix?: string): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof ServiceError) throw new UserError(error.message, fix);
    throw error;
  }
}

function formatTable(items: TokenSummary[]): string {
  if (items.length === 0) return 'No API tokens yet. Create one with: roadwatch-hub tokens create --name NAME --scope read\n';
  const rows = [
    ['NAME', 'SCOPE', 'PREFIX', 'CREATED', 'LAST USED', 'REVOKED'],
    ...items.map((t) => [t.name, t.scope, `${t.prefix}…`, t.createdAt, t.lastUsedAt ?? '-', t.revokedAt ?? '-']),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  return `${rows.map((r) => r.map((cell, col) => cell.padEnd(widths[col]!)).join('  ').trimEnd()).join('\n')}\n`;
}
