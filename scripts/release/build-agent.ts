// `npm run build:agent`: the vehicle release, dist/release/roadwatch-agent-<version>-<platform>-<arch>/
// and its .tar.gz. It runs on a machine with no Node, npm or node_modules (docs/RELEASE.md).
//
//   tsx scripts/release/build-agent.ts [--out DIR] [--no-tar] [--no-strip]
//
// Build on the target's architecture: the executable is a copy of the node running this script,
// and the native packages are the ones npm installed for this machine.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundle } from './bundle.js';
import { RELEASE_FILES } from './layout.js';
import { copyNativePackages, folderBytes } from './natives.js';
import { buildSea } from './sea.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: { out: { type: 'string' }, 'no-tar': { type: 'boolean' }, 'no-strip': { type: 'boolean' } },
});

const version = (JSON.parse(readFileSync(join(repoRoot, 'agent/package.json'), 'utf8')) as { version: string }).version;
const platform = process.platform;
const arch = process.arch;
if (platform !== 'linux') throw new Error(`release: the agent release is built for Linux (this is ${platform})`);
const name = `roadwatch-agent-${version}-${platform}-${arch}`;
const outRoot = resolve(args.out ?? join(repoRoot, 'dist/release'));
const releaseDir = join(outRoot, name);
const workDir = join(outRoot, `.build-${arch}`);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const step = (what: string) => process.stderr.write(`release: ${what}\n`);

for (const built of ['agent/dist/cli/program.js', 'agent/dist/detect/worker.js', 'shared/dist/index.js']) {
  if (!existsSync(join(repoRoot, built))) throw new Error(`release: ${built} is missing — run npm run build first (npm run build:agent does)`);
}

rmSync(releaseDir, { recursive: true, force: true });
rmSync(`${releaseDir}.tar.gz`, { force: true });
rmSync(workDir, { recursive: true, force: true });
mkdirSync(workDir, { recursive: true });
mkdirSync(join(releaseDir, 'lib/app/agent/dist/detect'), { recursive: true });

step('bundling agent/dist with esbuild');
const bundleFile = join(workDir, 'roadwatch.cjs');
const warnings = [
  ...(await bundle(repoRoot, 'scripts/release/sea-entry.mjs', bundleFile)).warnings,
  ...(await bundle(repoRoot, 'agent/dist/detect/worker.js', join(releaseDir, 'lib/app/agent/dist/detect/worker.js'))).warnings,
];
for (const w of warnings) step(`  esbuild warning: ${w}`);
// The agent reads its version from here (`roadwatch --version`, the status payload); "commonjs" makes
// the worker bundle beside it load as CommonJS.
writeFileSync(
  join(releaseDir, 'lib/app/agent/package.json'),
  `${JSON.stringify({ name: '@roadwatch/agent', version, private: true, type: 'commonjs' }, null, 2)}\n`,
);

step(`native packages for ${platform}-${arch} into lib/node_modules`);
const natives = copyNativePackages(repoRoot, join(releaseDir, 'lib'), platform, arch);

step('model');
mkdirSync(join(releaseDir, 'models/road-damage-tiny'), { recursive: true });
for (const file of ['model.onnx', 'MODEL_CARD.md']) {
  cpSync(join(repoRoot, 'models/road-damage-tiny', file), join(releaseDir, 'models/road-damage-tiny', file));
}

step('deploy files (systemd unit, installer, config examples)');
for (const [from, to] of RELEASE_FILES) {
  if (!existsSync(join(repoRoot, from))) throw new Error(`release: ${from} is missing`);
  mkdirSync(dirname(join(releaseDir, to)), { recursive: true });
  cpSync(join(repoRoot, from), join(releaseDir, to));
}
chmodSync(join(releaseDir, 'deploy/install-agent.sh'), 0o755);

step(`single executable from ${process.execPath} (node ${process.versions.node})`);
const { stripped } = await buildSea({ bundle: bundleFile, workDir, output: join(releaseDir, 'roadwatch'), strip: !args['no-strip'] });

const printed = execFileSync(join(releaseDir, 'roadwatch'), ['--version'], { encoding: 'utf8', env: { PATH: '/nonexistent' } }).trim();
if (printed !== version) throw new Error(`release: ./roadwatch --version printed ${JSON.stringify(printed)}, expected ${version}`);

const sizes = {
  executable: statSync(join(releaseDir, 'roadwatch')).size,
  lib: folderBytes(join(releaseDir, 'lib')),
  models: folderBytes(join(releaseDir, 'models')),
  total: 0,
  tarGz: null as number | null,
};
sizes.total = folderBytes(releaseDir);
writeFileSync(
  join(releaseDir, 'BUILD.json'),
  `${JSON.stringify({ name: 'roadwatch-agent', version, platform, arch, node: process.versions.node, stripped, packages: natives.packages }, null, 2)}\n`,
);

if (!args['no-tar']) {
  step('tarball');
  execFileSync('tar', ['-czf', `${releaseDir}.tar.gz`, '-C', outRoot, name], { stdio: 'inherit' });
  sizes.tarGz = statSync(`${releaseDir}.tar.gz`).size;
}
rmSync(workDir, { recursive: true, force: true });

process.stdout.write(
  `${releaseDir}\n` +
    `  roadwatch (node ${process.versions.node} SEA${stripped ? ', stripped' : ''}) ${mb(sizes.executable)}\n` +
    `  lib/ ${mb(sizes.lib)}   models/ ${mb(sizes.models)}   total ${mb(sizes.total)}` +
    (sizes.tarGz === null ? '\n' : `   .tar.gz ${mb(sizes.tarGz)}\n`),
);
