import { existsSync } from 'node:fs';

/**
 * Whether NTP has synchronised the system clock since boot, as systemd-timesyncd records it: it
 * creates /run/systemd/timesync/synchronized on its first sync. True / false when timesyncd runs,
 * null when it does not (chrony, ntpd: unknown — the policy then trusts a clock after the floor).
 */
export function timesyncdProbe(runDir = '/run/systemd/timesync'): () => boolean | null {
  return () => {
    if (existsSync(`${runDir}/synchronized`)) return true;
    return existsSync(runDir) ? false : null;
  };
}
