import { newSecret } from '../services/secrets.js';
import type { CliIo } from './io.js';
import { removeMosquittoUser, setMosquittoPassword } from './mosquitto-passwd.js';

export interface BrokerPasswdOptions {
  delete?: boolean;
  json?: boolean;
}

/**
 * `roadwatch-hub broker passwd <file> <username> [--delete] [--json]`: a new random password for a
 * user of a Mosquitto password file — the hub replicas' own user (ROADWATCH_HUB_MQTT_USERNAME), or
 * any other — printed once; `--delete` removes the user. Devices get theirs from
 * `devices add … --mosquitto-passwd FILE`. Needs no database.
 */
export function brokerPasswd(file: string, username: string, options: BrokerPasswdOptions, io: CliIo): number {
  if (options.delete) {
    const result = removeMosquittoUser(file, username);
    if (options.json) io.stdout(`${JSON.stringify({ username, ...result })}\n`);
    else io.stdout(`${result.change === 'removed' ? `User ${username} removed from` : `No user ${username} in`} ${file}.\n${reloadHint}\n`);
    return 0;
  }
  const password = newSecret();
  const result = setMosquittoPassword(file, username, password);
  if (options.json) {
    io.stdout(`${JSON.stringify({ username, password, ...result })}\n`);
  } else {
    io.stdout(
      [
        `User ${username} ${result.change === 'added' ? 'added to' : 'has a new password in'} ${file}${result.created ? " (created, mode 0600: let the broker's user read it, e.g. chown mosquitto: FILE)" : ''}.`,
        '',
        `  password: ${password}`,
        '',
        'Store it now: it will not be shown again (only a hash is kept).',
        `For the hub replicas: ROADWATCH_HUB_MQTT_USERNAME=${username} ROADWATCH_HUB_MQTT_PASSWORD=${password}`,
        reloadHint,
        '',
      ].join('\n'),
    );
  }
  return 0;
}

const reloadHint = 'Reload Mosquitto so it reads the file: systemctl reload mosquitto (or kill -HUP <mosquitto pid>).';
