// The hub's deployment files (docs/RELEASE.md): hub/Dockerfile, deploy/docker-compose.yml,
// deploy/k8s/*, deploy/hub.env.example — and the agent's env and config examples. No Docker engine
// or cluster runs here: the files are parsed and checked against each other and against the config
// schemas; `docker compose config` runs too when the compose plugin is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { loadConfig } from '@roadwatch/shared';
import { AGENT_ENV, AgentConfigSchema } from '../agent/src/config/schema.js';
import { HUB_ENV, HubConfigSchema } from '../hub/src/config/schema.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(repo, path), 'utf8');
const HUB_NAMES = new Set(HUB_ENV.map((b) => b.name));
const AGENT_NAMES = new Set(AGENT_ENV.map((b) => b.name));

/** `KEY=value` lines of an env file, commented-out ones (`# KEY=value`) included when `all`. */
function envKeys(text: string, all: boolean): Map<string, string> {
  const keys = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = (all ? /^#?\s*([A-Z][A-Z0-9_]*)=(.*)$/ : /^([A-Z][A-Z0-9_]*)=(.*)$/).exec(line.trim());
    if (m) keys.set(m[1]!, m[2]!);
  }
  return keys;
}

type Doc = Record<string, any>;

describe('deploy/hub.env.example', () => {
  const text = read('deploy/hub.env.example');

  it('lists every hub environment variable, and nothing the hub does not read', () => {
    const listed = [...envKeys(text, true).keys()];
    expect(listed.filter((k) => !HUB_NAMES.has(k)), 'not read by the hub (hub/src/config/schema.ts HUB_ENV)').toEqual([]);
    expect([...HUB_NAMES].filter((k) => !listed.includes(k)), 'add these to deploy/hub.env.example').toEqual([]);
  });

  it('its values (the commented ones too) make a valid hub config', () => {
    const env = Object.fromEntries(envKeys(text, true));
    expect(() => loadConfig(HubConfigSchema, { env, bindings: HUB_ENV, what: 'hub' })).not.toThrow();
  });
});

describe('deploy/env: the agent’s examples', () => {
  it('agent.env.example names only variables the agent reads; with a secret, it and agent.json.example make a valid config', () => {
    const env = envKeys(read('deploy/env/agent.env.example'), true);
    expect([...env.keys()].filter((k) => !AGENT_NAMES.has(k))).toEqual([]);
    const values = Object.fromEntries([...env].map(([k, v]) => [k, k === 'ROADWATCH_DEVICE_SECRET' ? 'issued-by-roadwatch-hub-devices-add' : v]));
    const config = loadConfig(AgentConfigSchema, { file: join(repo, 'deploy/env/agent.json.example'), env: values, bindings: AGENT_ENV, what: 'agent' });
    expect(config).toMatchObject({ deviceId: 'veh-0042', dataDir: '/var/lib/roadwatch', camera: { source: 'v4l2' }, gps: { source: 'serial' } });
    // The secret is the one thing the installer leaves empty: the example alone is rejected, naming it.
    expect(() => loadConfig(AgentConfigSchema, { file: join(repo, 'deploy/env/agent.json.example'), env: Object.fromEntries(env), bindings: AGENT_ENV, what: 'agent' })).toThrow(/deviceSecret/);
  });
});

describe('hub/Dockerfile', () => {
  const text = read('hub/Dockerfile');

  it('is multi-stage, runs as the non-root uid the k8s Deployment expects, exposes HTTP and MQTT, checks /health', () => {
    const stages = [...text.matchAll(/^FROM\s+(\S+)\s+AS\s+(\S+)$/gim)].map((m) => m[2]);
    expect(stages).toEqual(['build', 'runtime']);
    expect(text).toMatch(/^COPY --from=build /m);
    expect(text).toMatch(/^USER 10001:10001$/m);
    expect(text).toMatch(/^EXPOSE 8080 1883$/m);
    expect(text).toMatch(/^HEALTHCHECK [\s\S]*\/health'/m);
    expect(text).toMatch(/^ENTRYPOINT \["node", "hub\/bin\/roadwatch-hub\.js"\]$/m);
  });

  it('copies only paths that exist and that .dockerignore lets through', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const m of text.matchAll(/^COPY (?!--from)(.+)$/gm)) {
      const sources = m[1]!.trim().split(/\s+/).slice(0, -1);
      for (const source of sources) {
        expect(existsSync(join(repo, source)), source).toBe(true);
        const top = source.replace(/\/$/, '').split('/');
        expect(ignored.filter((pattern) => pattern === top[0] || pattern === source.replace(/\/$/, '')), `${source} is in .dockerignore`).toEqual([]);
      }
    }
  });
});

describe('deploy/docker-compose.yml', () => {
  const compose = parseYaml(read('deploy/docker-compose.yml')) as Doc;

  it('runs the hub (built from hub/Dockerfile) against Postgres, with an optional external broker', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['hub', 'mqtt', 'postgres']);
    const { hub, postgres, mqtt } = compose.services;
    expect(hub.build).toEqual({ context: '..', dockerfile: 'hub/Dockerfile' });
    expect(existsSync(join(repo, 'deploy', hub.build.context, hub.build.dockerfile))).toBe(true);
    expect(hub.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(hub.environment.DATABASE_URL).toBe('postgres://roadwatch:${POSTGRES_PASSWORD}@postgres:5432/roadwatch');
    expect(postgres.environment).toMatchObject({ POSTGRES_DB: 'roadwatch', POSTGRES_USER: 'roadwatch' });
    expect(postgres.healthcheck.test.join(' ')).toContain('pg_isready');
    expect(hub.healthcheck.test.join(' ')).toContain('/health/ready');
    expect(hub.env_file).toEqual([{ path: 'hub.env', required: false }]);
    expect(mqtt.profiles).toEqual(['external-broker']);
    expect(mqtt.ports, 'the external broker is not published (no auth)').toBeUndefined();
    const named = Object.keys(compose.volumes);
    for (const service of Object.values(compose.services) as Doc[]) {
      for (const volume of (service.volumes ?? []) as string[]) {
        const source = volume.split(':')[0]!;
        if (!source.startsWith('.') && !source.startsWith('/')) expect(named, volume).toContain(source);
      }
    }
  });

  it('sets only environment variables the hub reads; the ports match the image', () => {
    const { hub } = compose.services;
    expect(Object.keys(hub.environment).filter((k) => !HUB_NAMES.has(k))).toEqual([]);
    const commented = [...read('deploy/docker-compose.yml').matchAll(/^\s*#\s*([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!);
    expect(commented.filter((k) => !HUB_NAMES.has(k))).toEqual([]);
    expect(hub.ports.map((p: string) => p.split(':').pop())).toEqual(['8080', '1883']);
  });

  const composePlugin = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!composePlugin)('docker compose config accepts it (with and without the external-broker profile)', () => {
    for (const args of [[], ['--profile', 'external-broker']]) {
      const r = spawnSync('docker', ['compose', '-f', join(repo, 'deploy/docker-compose.yml'), ...args, 'config', '--quiet'], {
        encoding: 'utf8',
        env: { ...process.env, POSTGRES_PASSWORD: 'test-only' },
      });
      expect(r.status, r.stderr).toBe(0);
    }
    const missing = spawnSync('docker', ['compose', '-f', join(repo, 'deploy/docker-compose.yml'), 'config', '--quiet'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(missing.stderr).toContain('set POSTGRES_PASSWORD');
  });
});

describe('deploy/k8s', () => {
  const dir = join(repo, 'deploy/k8s');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  const docs: Array<{ file: string; doc: Doc }> = files.flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => {
      expect(d.errors, file).toEqual([]);
      return { file, doc: d.toJS() as Doc };
    }),
  );
  const byKind = (kind: string) => docs.filter((d) => d.doc.kind === kind).map((d) => d.doc);
  const API: Record<string, string> = {
    Deployment: 'apps/v1',
    Service: 'v1',
    HorizontalPodAutoscaler: 'autoscaling/v2',
    PodDisruptionBudget: 'policy/v1',
    ConfigMap: 'v1',
    Secret: 'v1',
    Kustomization: 'kustomize.config.k8s.io/v1beta1',
  };

  it('every document has a known kind, its apiVersion and a name', () => {
    for (const { file, doc } of docs) {
      expect(API[doc.kind], `${file}: kind ${doc.kind}`).toBeDefined();
      expect(doc.apiVersion, file).toBe(API[doc.kind]);
      if (doc.kind !== 'Kustomization') expect(doc.metadata?.name, file).toBe(doc.kind === 'Service' && doc.metadata.name.endsWith('-mqtt') ? 'roadwatch-hub-mqtt' : 'roadwatch-hub');
    }
    expect(new Set(docs.map((d) => d.doc.kind))).toEqual(new Set(Object.keys(API)));
  });

  it('kustomization lists every manifest but the Secret example, and they exist', () => {
    const [kustomization] = byKind('Kustomization');
    expect(kustomization!.resources.sort()).toEqual(files.filter((f) => !['kustomization.yaml', 'secret.example.yaml'].includes(f)).sort());
  });

  it('the Deployment: probes on /health and /health/ready, settings from the ConfigMap and Secret, non-root as in the image', () => {
    const [deployment] = byKind('Deployment');
    const pod = deployment!.spec.template;
    expect(deployment!.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'roadwatch-hub' });
    expect(pod.metadata.labels).toMatchObject(deployment!.spec.selector.matchLabels);
    const [container] = pod.spec.containers;
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(container.startupProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
    expect(container.ports).toEqual([
      { name: 'http', containerPort: 8080 },
      { name: 'mqtt', containerPort: 1883 },
    ]);
    expect(container.envFrom).toEqual([{ configMapRef: { name: 'roadwatch-hub' } }, { secretRef: { name: 'roadwatch-hub' } }]);
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001 });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    const mounted = container.volumeMounts.map((m: Doc) => m.mountPath);
    expect(mounted).toEqual(expect.arrayContaining(['/var/lib/roadwatch-hub', '/tmp']));
    expect(container.resources.limits.memory).toBeDefined();
  });

  it('the ConfigMap and the Secret set only variables the hub reads, and the ConfigMap the ports the container opens', () => {
    const [configMap] = byKind('ConfigMap');
    const [secret] = byKind('Secret');
    const keys = [...Object.keys(configMap!.data), ...Object.keys(secret!.stringData)];
    expect(keys.filter((k) => !HUB_NAMES.has(k))).toEqual([]);
    expect(configMap!.data).toMatchObject({ ROADWATCH_HUB_HTTP_PORT: '8080', ROADWATCH_HUB_MQTT_PORT: '1883' });
    expect(() => loadConfig(HubConfigSchema, { env: { ...configMap!.data, ...secret!.stringData }, bindings: HUB_ENV, what: 'hub' })).not.toThrow();
  });

  it('the Services, HPA and PodDisruptionBudget point at the Deployment’s pods and ports', () => {
    const [deployment] = byKind('Deployment');
    const labels = deployment!.spec.template.metadata.labels;
    const portNames = deployment!.spec.template.spec.containers[0].ports.map((p: Doc) => p.name);
    for (const service of byKind('Service')) {
      expect(labels).toMatchObject(service.spec.selector);
      for (const port of service.spec.ports) expect(portNames).toContain(port.targetPort);
    }
    const [hpa] = byKind('HorizontalPodAutoscaler');
    expect(hpa!.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment!.metadata.name });
    expect(hpa!.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const [pdb] = byKind('PodDisruptionBudget');
    expect(labels).toMatchObject(pdb!.spec.selector.matchLabels);
    expect(pdb!.spec.minAvailable).toBeLessThan(hpa!.spec.minReplicas);
  });
});
