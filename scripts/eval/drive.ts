// npm run eval:drive [-- --seeds 950001,950004,950007 --length-m 1000 --gps-hz 1 --gps-noise-m 1.5 --no-write]
// Renders simulated drives with seeds the model never saw (the renderer's test range, 900000+),
// kept in .scratch/drives/ for the next run, replays each through the agent's full pipeline
// (ffmpeg → detector → fusion → outbox) and scores the events against the ground truth, per drive
// and pooled. Targets at 50 km/h, 1 Hz GPS: precision ≥ 0.9, recall ≥ 0.8, median error ≤ 5 m,
// ≤ 1.1 events per defect.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fmt, table, writeSection } from '../bench/report.js';
import { ensureDrive, replayDrive, type ReplaySummary } from '../drive/recorded.js';
import { loadTruth, scoreEvents, type DriveScore, type Truth } from '../drive/score.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '950001,950004,950007' },
    'length-m': { type: 'string', default: '1000' },
    'speed-kmh': { type: 'string', default: '50' },
    'gps-hz': { type: 'string', default: '1' },
    'gps-noise-m': { type: 'string', default: '1.5' },
    'stop-s': { type: 'string', default: '15' },
    'no-write': { type: 'boolean', default: false },
  },
});
const seeds = values.seeds.split(',').map((s) => Number(s.trim()));
if (seeds.some((s) => !Number.isInteger(s) || s < 900_000)) throw new Error('--seeds must be integers ≥ 900000: seeds below are the renderer’s training and validation scenes');

interface DriveResult {
  truth: Truth;
  summary: ReplaySummary;
  score: DriveScore;
}
const results: DriveResult[] = [];
for (const seed of seeds) {
  const dir = fileURLToPath(new URL(`../../.scratch/drives/eval-${seed}`, import.meta.url));
  const options = ['--seed', String(seed), '--length-m', values['length-m'], '--speed-kmh', values['speed-kmh'], '--gps-hz', values['gps-hz'], '--gps-noise-m', values['gps-noise-m'], '--stop-s', values['stop-s'], '--fps', '5', '--video'];
  await ensureDrive(dir, options);
  const truth = await loadTruth(dir);
  console.log(`\nreplaying drive ${seed}: ${truth.frameCount} frames (${truth.durationS.toFixed(0)} s, ${truth.defects.length} defects, ${truth.conditions.weather as string}) through roadwatch replay …`);
  const summary = await replayDrive(dir);
  results.push({ truth, summary, score: scoreEvents(summary.eventList, truth) });
}

// Pooled over the drives: every event and defect counts once.
const sum = (f: (r: DriveResult) => number) => results.reduce((a, r) => a + f(r), 0);
const events = sum((r) => r.score.events);
const falsePositives = sum((r) => r.score.falsePositives.length);
const matched = sum((r) => r.score.matched);
const defects = sum((r) => r.score.defects);
const duplicates = sum((r) => r.score.duplicates);
const errors = results.flatMap((r) => r.score.matches.map((m) => m.errorM)).sort((a, b) => a - b);
const quantile = (q: number) => (errors.length ? errors[Math.min(errors.length - 1, Math.floor(q * errors.length))]! : NaN);
const pooled = {
  precision: events ? (events - falsePositives) / events : 1,
  recall: defects ? matched / defects : 1,
  median: quantile(0.5),
  p95: quantile(0.95),
  perDefect: matched ? (matched + duplicates) / matched : NaN,
};

const pct = (n: number) => fmt(n, 3);
const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
const targets = [
  { measure: 'precision (same class within 10 m)', value: pct(pooled.precision), target: '≥ 0.9', status: met(pooled.precision >= 0.9) },
  { measure: 'recall', value: pct(pooled.recall), target: '≥ 0.8', status: met(pooled.recall >= 0.8) },
  { measure: 'median location error', value: `${fmt(pooled.median, 2)} m`, target: '≤ 5 m', status: met(pooled.median <= 5) },
  { measure: 'p95 location error', value: `${fmt(pooled.p95, 2)} m`, target: '', status: '' },
  { measure: 'events per real defect', value: fmt(pooled.perDefect, 2), target: '≤ 1.1', status: met(pooled.perDefect <= 1.1) },
];
const perDrive = results.map(({ truth, summary, score }) => ({
  drive: `seed ${truth.seed}, ${truth.conditions.weather as string}`,
  defects: score.defects,
  events: score.events,
  precision: pct(score.precision),
  recall: pct(score.recall),
  'median error m': fmt(score.medianErrorM ?? NaN, 2),
  'events/defect': fmt(score.eventsPerDefect ?? NaN, 2),
  'frames/s': fmt(summary.fps, 1),
}));
const classes = [...new Set(results.flatMap((r) => Object.keys(r.score.perClass)))].sort();
const perClass = classes.map((cls) => {
  const c = (f: (x: DriveScore['perClass'][string]) => number) => results.reduce((a, r) => a + (r.score.perClass[cls] ? f(r.score.perClass[cls]) : 0), 0);
  const ev = c((x) => x.events);
  const fp = c((x) => x.falsePositives);
  return { class: cls, defects: c((x) => x.defects), events: ev, matched: c((x) => x.matched), 'false positives': fp, precision: pct(ev ? (ev - fp) / ev : 1), recall: pct(c((x) => x.matched) / Math.max(1, c((x) => x.defects))) };
});
const fpNearOther = results.flatMap((r) => r.score.falsePositives).filter((f) => f.nearest && f.nearest.distanceM <= 10).length;
const first = results[0]!.truth;
const body = [
  `${results.length} simulated drives with seeds the model never saw (the renderer's test range), each ${first.lengthM} m of straight road at ${first.speedKmh} km/h with a ${first.stop ? `${first.stop.durationS} s stop` : 'no stop'}, ${first.fps} fps ${first.frame.width}×${first.frame.height}, GPS ${first.gpsHz} Hz with ${first.gpsNoiseM} m white noise; ${defects} defects in all. Replayed with \`roadwatch replay --video … --nmea … --json\` (${results[0]!.summary.model as string}); scored per drive (same class within 10 m, greedy nearest first) and pooled.`,
  '',
  table(targets),
  '',
  table(perDrive),
  '',
  table(perClass),
  '',
  `${falsePositives} false positives, ${fpNearOther} of them within 10 m of a defect of another class (the detector naming a defect, or a look-alike next to it, differently); the rest are look-alikes the model takes for damage (oil stains, patches, seams). Missed: ${results.flatMap((r) => r.score.missed.map((m) => `${m.defect.class} ${r.truth.seed}/${m.defect.id}`)).join(', ') || 'none'}.`,
].join('\n');
console.log(`\n${body}`);
if (!values['no-write']) writeSection('drive', 'Drive quality (eval:drive)', body);
