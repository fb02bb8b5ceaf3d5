// The benchmarks `npm run bench` runs, and how its command line picks them.

/** In the order of the issues that asked for them; `script` is the npm script, `name` also names its section of docs/BENCHMARKS.md. */
export const BENCHMARKS = [
  { name: 'outbox', script: 'bench:outbox', what: 'agent outbox append and drain vs raw SQLite inserts' },
  { name: 'sync', script: 'bench:sync', what: '1 M events outbox → MQTT → hub → Postgres vs COPY' },
  { name: 'detect', script: 'bench:detect', what: 'detector phases, detect() vs bare session.run, event-loop delay' },
  { name: 'drive', script: 'eval:drive', what: 'simulated drives through replay scored against ground truth' },
  { name: 'pipeline', script: 'bench:pipeline', what: 'a recorded drive through roadwatch replay vs bare inference; RSS' },
  { name: 'api', script: 'bench:api', what: 'REST API p50/p95/p99 over 10 M detections; ingest with rules on vs off' },
  { name: 'ingest', script: 'bench:ingest', what: '5,000 vehicles\' small batches into IngestService: prepared ingest statement vs text' },
  { name: 'fleet', script: 'bench:fleet', what: '5,000 vehicles, shift-change herd, 2 replicas vs 1, aedes vs Mosquitto' },
] as const;

export interface Selection {
  only?: readonly string[];
  skip?: readonly string[];
}

/** The benchmarks to run, in order; an unknown name is an error that lists the known ones. */
export function select({ only, skip = [] }: Selection): Array<(typeof BENCHMARKS)[number]> {
  const known = new Set<string>(BENCHMARKS.map((b) => b.name));
  const unknown = [...(only ?? []), ...skip].filter((n) => !known.has(n));
  if (unknown.length) throw new Error(`unknown benchmark ${unknown.join(', ')}: choose from ${[...known].join(', ')}`);
  return BENCHMARKS.filter((b) => (!only || only.includes(b.name)) && !skip.includes(b.name));
}

/** Extra arguments per benchmark: `api:--seconds=5` → { api: ['--seconds=5'] }. */
export function passThrough(items: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const item of items) {
    const at = item.indexOf(':');
    if (at <= 0) throw new Error(`--pass ${item}: write it as NAME:ARGUMENT, e.g. api:--seconds=5`);
    (out[item.slice(0, at)] ??= []).push(item.slice(at + 1));
  }
  return out;
}
