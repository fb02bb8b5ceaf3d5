import { createGpsSource } from '../gps/create-gps-source.js';
import type { Fix } from '../gps/fix.js';
import type { GpsStatus } from '../gps/gps-source.js';
import type { AgentStatus } from '../control/status.js';
import { fail, pass, skip, sleep, splitHint, warn, type DoctorContext, type Outcome } from './types.js';

const ID = 'gps';
/** More bad checksums than this share of all sentences: a noisy line. */
const MAX_CHECKSUM_SHARE = 0.05;
const MAX_HDOP = 5;

interface Observed {
  name: string;
  state: GpsStatus['state'];
  message: string;
  seconds: number;
  /** Over the observation (not since the source started). */
  sentences: number;
  checksumErrors: number;
  fixes: number | null;
  lastFix: Pick<Fix, 'mode' | 'lat' | 'lon' | 'sats' | 'hdop'> | null;
  fromService: boolean;
}

/**
 * Opens the receiver (serial, gpsd or a log, as configured) for a few seconds: sentences flowing,
 * checksum error rate, fix, satellites, HDOP. Asks the service instead when it runs (it holds the
 * port). The fixes' GPS time is handed to the clock check.
 */
export async function checkGps(ctx: DoctorContext): Promise<Outcome> {
  if (ctx.service) return ctx.service.gps ? judge(await fromService(ctx)) : skip(ID, 'the service runs no GPS (no camera configured, or its camera pipeline is off)');
  if (!ctx.field) return skip(ID, 'not checked: the config is invalid');
  if (!ctx.field.camera) return skip(ID, 'not used: no camera configured (the service only syncs)');
  const source = createGpsSource(ctx.field.gps, { logger: ctx.logger });
  let fixes = 0;
  let positions = 0;
  let lastFix: Fix | null = null;
  source.onFix((fix) => {
    fixes += 1;
    if (fix.mode >= 2 && fix.lat !== null) positions += 1;
    lastFix = fix;
    ctx.gpsClock.observeFix(fix);
  });
  const started = ctx.mono();
  const listenMs = Math.min(ctx.gpsSeconds * 1000, ctx.timeoutMs - 500);
  try {
    await source.start();
    for (;;) {
      const elapsed = ctx.mono() - started;
      if (source.status().state === 'fault' || elapsed >= listenMs) break;
      if (positions >= 3 && elapsed >= 1000) break; // a healthy receiver answers quickly
      await sleep(50);
    }
  } finally {
    await source.stop();
  }
  const status = source.status();
  const fixOfNow = lastFix as Fix | null;
  return judge({
    name: source.name,
    state: status.state,
    message: status.message,
    seconds: (ctx.mono() - started) / 1000,
    sentences: status.sentences,
    checksumErrors: status.checksumErrors,
    fixes,
    lastFix: fixOfNow ?? status.lastFix,
    fromService: false,
  });
}

/** Two looks at the service's receiver, a moment apart: are sentences still flowing? */
async function fromService(ctx: DoctorContext): Promise<Observed> {
  const first = ctx.service!.gps;
  const waitMs = Math.min(2_000, ctx.gpsSeconds * 1000, ctx.timeoutMs - 1_000);
  await sleep(waitMs);
  const again = (await ctx.client!.statusIfRunning()) as AgentStatus | null;
  const gps = again?.gps ?? first;
  if (!gps || !first) return { name: 'the service’s GPS', state: 'fault', message: 'the service runs no GPS (the camera pipeline is off)', seconds: 0, sentences: 0, checksumErrors: 0, fixes: null, lastFix: null, fromService: true };
  return {
    name: gps.name,
    state: gps.state,
    message: gps.message,
    seconds: waitMs / 1000,
    sentences: gps.sentences - first.sentences,
    checksumErrors: gps.checksumErrors - first.checksumErrors,
    fixes: null,
    lastFix: gps.lat === null ? null : { mode: (gps.mode ?? 0) as Fix['mode'], lat: gps.lat, lon: gps.lon, sats: gps.sats, hdop: gps.hdop },
    fromService: true,
  };
}

function judge(o: Observed): Outcome {
  const total = o.sentences + o.checksumErrors;
  const share = total === 0 ? 0 : o.checksumErrors / total;
  const fix = o.lastFix;
  const data = {
    gps: o.name,
    fromService: o.fromService,
    seconds: Math.round(o.seconds * 10) / 10,
    sentences: o.sentences,
    checksumErrors: o.checksumErrors,
    checksumErrorRate: Math.round(share * 10_000) / 10_000,
    fixes: o.fixes,
    mode: fix?.mode ?? null,
    lat: fix?.lat ?? null,
    lon: fix?.lon ?? null,
    sats: fix?.sats ?? null,
    hdop: fix?.hdop ?? null,
  };
  const by = o.fromService ? ' (read by the service)' : '';
  if (o.state === 'fault') {
    const { detail, hint } = splitHint(o.message);
    return fail(ID, `${detail}${by}`, hint ?? 'check the receiver and gps.port', data);
  }
  const flow = `${o.sentences} sentences in ${o.seconds.toFixed(1)} s, ${o.checksumErrors} checksum errors (${(share * 100).toFixed(1)} %)`;
  if (o.sentences === 0) {
    const { detail, hint } = splitHint(o.message);
    return fail(ID, `${o.name}${by}: no NMEA sentences in ${o.seconds.toFixed(1)} s (${detail})`, hint ?? "check the receiver's power and cable, and gps.baud", data);
  }
  if (share > MAX_CHECKSUM_SHARE) return warn(ID, `${o.name}${by}: ${flow}`, 'a loose cable, electrical noise, or a wrong gps.baud', data);
  if (!fix || fix.mode < 2 || fix.lat === null || fix.lon === null) {
    return warn(ID, `${o.name}${by}: sentences flow but there is no position fix yet — ${flow}`, 'give the antenna a clear view of the sky; a cold start can take a few minutes', data);
  }
  const where = `${fix.mode === 3 ? '3D' : '2D'} fix ${fix.lat.toFixed(7)}, ${fix.lon.toFixed(7)}, ${fix.sats ?? '?'} sats, HDOP ${fix.hdop ?? '?'}`;
  if (fix.hdop !== null && fix.hdop > MAX_HDOP) return warn(ID, `${o.name}${by}: ${where} — poor satellite geometry; ${flow}`, 'mount the antenna with a clear view of the sky (roof, away from metal)', data);
  return pass(ID, `${o.name}${by}: ${where}; ${flow}`, data);
}
