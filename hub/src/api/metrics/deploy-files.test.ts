import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { HubConfigSchema } from '../../config/schema.js';
import { testLogger } from '../../db/testing/databases.js';
import { createHub, type Hub } from '../../main.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const ALERTS_FILE = join(repo, 'deploy/prometheus/roadwatch-alerts.yml');
const DASHBOARD_FILE = join(repo, 'deploy/grafana/roadwatch-hub.json');
const OPERATIONS_DOC = join(repo, 'docs/OPERATIONS.md');
/** Series Prometheus makes itself, not the hub. */
const PROMETHEUS_SERIES = new Set(['up']);

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan']);

/** Metric names a PromQL expression reads (label names, functions, keywords and numbers left out). */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // strings (label values)
    .replace(/\{[^}]*\}/g, ' ') // label matchers (and Grafana's ${var})
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ') // label lists
    .replace(/\$\w+/g, ' '); // Grafana variables
  const names = new Set<string>();
  const token = /(\d+(?:\.\d+)?(?:e[+-]?\d+)?(?:ms|s|m|h|d|w|y)?)|([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/gi;
  for (const m of stripped.matchAll(token)) {
    const [, number, name, call] = m;
    if (number || !name || call || KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}

/** Every name /metrics exposes: TYPE lines (also series with no sample yet), histogram and summary parts, sample lines. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      const [, name, kind] = type as unknown as [string, string, string];
      names.add(name);
      if (kind === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
      if (kind === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
      continue;
    }
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]/.exec(line);
    if (sample) names.add(sample[1]!);
  }
  return names;
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: Array<{ expr: string; refId: string; datasource?: unknown }>;
  panels?: Panel[];
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

describe('PromQL metric name extraction', () => {
  it('finds the metrics, not labels, functions, keywords, durations or Grafana variables', () => {
    const expr = `histogram_quantile(0.95, sum by (le, route) (rate(roadwatch_hub_http_request_duration_seconds_bucket{route!="unmatched", instance=~"$instance"}[$__rate_interval]))) > 1
      and on() max(roadwatch_hub_db_up) == 1 unless absent(up{job="roadwatch-hub"}) or vector(1e-9) offset 5m`;
    expect(metricNames(expr).sort()).toEqual(['roadwatch_hub_db_up', 'roadwatch_hub_http_request_duration_seconds_bucket', 'up']);
    expect(metricNames('sum without (instance) (a_total) / ignoring(x) group_left(y) b')).toEqual(['a_total', 'b']);
  });
});

describe('deploy/prometheus and deploy/grafana match the metrics the hub exposes', () => {
  let dataDir: string;
  let hub: Hub;
  let exposed: Set<string>;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'rw-deploy-files-'));
    // The real hub, as serve builds it (its own registry with process metrics), scraped over HTTP.
    hub = createHub(HubConfigSchema.parse({ dataDir, host: '127.0.0.1', httpPort: 0, mqttPort: 0, alarms: { timerS: 3600 } }), { logger: testLogger() });
    const { httpPort } = await hub.start();
    exposed = exposedNames(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text());
  });
  afterAll(async () => {
    await hub?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const unknown = (names: Iterable<string>) => [...names].filter((n) => !exposed.has(n) && !PROMETHEUS_SERIES.has(n));

  it('the hub exposes the operations metrics (sanity check of the scrape)', () => {
    for (const name of [
      'roadwatch_hub_events_stored_total',
      'roadwatch_hub_ingest_duration_seconds_bucket',
      'roadwatch_hub_events_duplicates_total',
      'roadwatch_hub_events_rejected_total',
      'roadwatch_hub_http_request_duration_seconds_bucket',
      'roadwatch_hub_alarms_open',
      'roadwatch_hub_devices_online',
      'roadwatch_hub_db_pool_total',
      'roadwatch_hub_db_pool_idle',
      'roadwatch_hub_db_pool_waiting',
      'roadwatch_hub_mqtt_clients',
      'roadwatch_hub_uplink_requests_total',
      'process_resident_memory_bytes',
    ]) {
      expect(exposed, name).toContain(name);
    }
  });

  it('every alert rule is well formed and reads only metrics the hub exposes', () => {
    const doc = parseYaml(readFileSync(ALERTS_FILE, 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> };
    const rules = doc.groups.flatMap((g) => g.rules);
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const rule of rules) {
      expect(rule.alert, JSON.stringify(rule)).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(rule.for).toMatch(/^\d+[smh]$/);
      expect(['critical', 'warning']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary).toBeTruthy();
      expect(rule.annotations?.description).toBeTruthy();
      const used = metricNames(rule.expr);
      expect(used.length, `${rule.alert} reads no metric`).toBeGreaterThan(0);
      expect(unknown(used), `${rule.alert}: ${rule.expr}`).toEqual([]);
    }
    // The situations operators asked for.
    expect(names).toEqual(
      expect.arrayContaining([
        'RoadwatchHubDown',
        'RoadwatchHubIngestStalled',
        'RoadwatchHubQuarantineRising',
        'RoadwatchManyDevicesOffline',
        'RoadwatchHubHttpSlow',
        'RoadwatchHubDbPoolExhausted',
        'RoadwatchSevereDamageOpen',
      ]),
    );
  });

  it('every dashboard query reads only metrics the hub exposes', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as {
      uid: string;
      title: string;
      panels: Panel[];
      templating: { list: Array<{ name: string; type: string; query: unknown }> };
    };
    expect(dashboard.uid).toBe('roadwatch-hub');
    const panels = allPanels(dashboard.panels);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    const queries = panels.filter((p) => p.type !== 'row');
    expect(queries.length).toBeGreaterThan(10);
    const used = new Set<string>();
    for (const panel of queries) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const t of panel.targets!) {
        const names = metricNames(t.expr);
        expect(names.length, `${panel.title}: ${t.expr}`).toBeGreaterThan(0);
        expect(unknown(names), `${panel.title}: ${t.expr}`).toEqual([]);
        names.forEach((n) => used.add(n));
      }
    }
    for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
      const query = typeof variable.query === 'string' ? variable.query : (variable.query as { query: string }).query;
      const metric = /^label_values\(([A-Za-z_:][A-Za-z0-9_:]*)/.exec(query)?.[1];
      expect(metric, `variable ${variable.name}`).toBeDefined();
      expect(unknown([metric!])).toEqual([]);
    }
    // The panels cover what the alerts watch.
    for (const name of ['roadwatch_hub_ingest_duration_seconds_bucket', 'roadwatch_hub_http_request_duration_seconds_bucket', 'roadwatch_hub_alarms_open', 'roadwatch_hub_devices_online', 'roadwatch_hub_db_pool_waiting']) {
      expect(used, name).toContain(name);
    }
  });

  it('every roadwatch_hub_* metric docs/OPERATIONS.md names exists', () => {
    const named = new Set(readFileSync(OPERATIONS_DOC, 'utf8').match(/\broadwatch_hub_[a-z0-9_]+/g) ?? []);
    expect(named.size).toBeGreaterThan(10);
    expect(unknown(named)).toEqual([]);
  });
});
