import { BUILD_FLOOR_MS } from '../clock/build-floor.js';
import { timesyncdProbe } from '../clock/ntp-probe.js';
import { fail, pass, warn, type DoctorContext, type Outcome } from './types.js';

const ID = 'clock';
/** The clock policy's limit: beyond it events are stamped with GPS time instead. */
const MAX_SKEW_MS = 2_000;

/**
 * The system clock: before the release floor (a Pi that booted at 1970) is a failure; off GPS time
 * by more than 2 s a warning. GPS time comes from the GPS check's fixes, or from the running service.
 */
export function checkClock(ctx: DoctorContext, ntpSynced: () => boolean | null = timesyncdProbe()): Outcome {
  const wall = ctx.wall();
  const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms));
  if (wall < BUILD_FLOOR_MS) {
    return fail(
      ID,
      `the system clock says ${iso(wall)}, before this release (${iso(BUILD_FLOOR_MS).slice(0, 10)}): it was never set`,
      'set it (timedatectl set-ntp true with a network, or timedatectl set-time); until then events take GPS time once there is a fix, and TLS to the hub fails',
      { wall: iso(wall), floor: iso(BUILD_FLOOR_MS) },
    );
  }
  const state = ctx.gpsClock.state();
  let skewMs = state.wallMinusGpsMs;
  let from = 'the GPS fixes';
  if (skewMs === null && ctx.service?.clock.wallMinusGpsMs != null) {
    skewMs = ctx.service.clock.wallMinusGpsMs;
    from = 'the service’s GPS';
  }
  const data = { wall: iso(wall), wallMinusGpsMs: skewMs };
  if (skewMs !== null) {
    const s = (Math.abs(skewMs) / 1000).toFixed(skewMs > 60_000 ? 0 : 1);
    if (Math.abs(skewMs) > MAX_SKEW_MS) {
      return warn(
        ID,
        `the system clock is ${s} s ${skewMs > 0 ? 'ahead of' : 'behind'} GPS time (from ${from})`,
        'events are stamped with GPS time meanwhile; fix the time sync (timedatectl status; systemd-timesyncd or chrony)',
        data,
      );
    }
    return pass(ID, `the system clock agrees with GPS time within ${Math.abs(skewMs)} ms (from ${from})`, data);
  }
  const ntp = ntpSynced();
  if (ntp === false) {
    return warn(ID, `${iso(wall)}: not synchronised by NTP since boot, and no GPS time to check it against`, 'connect to a network so NTP sets it, or get a GPS fix (the agent then stamps events with GPS time)', { ...data, ntp });
  }
  return pass(ID, `${iso(wall)}${ntp ? ', synchronised by NTP' : ''} (no GPS time to compare with)`, { ...data, ntp });
}
