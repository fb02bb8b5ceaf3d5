// esbuild: the agent's compiled JavaScript (agent/dist, shared/dist) and its pure-JS dependencies
// into one CommonJS file for the SEA, and the inference worker into another (a worker thread
// starts from a file, which the release ships under lib/app).
import { readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { NATIVE_PACKAGES } from './natives.js';

/**
 * Optional packages that dependencies try in a `try { require(…) } catch {}` (ws: bufferutil and
 * utf-8-validate; debug: supports-color). Not installed; in a SEA such a require of a non-built-in
 * prints a warning before it fails, so they resolve to a stub that fails quietly.
 */
const ABSENT_OPTIONAL = /^(bufferutil|utf-8-validate|supports-color)$/;

const NATIVE_FILTER = new RegExp(`^(${NATIVE_PACKAGES.map((p) => p.replace(/[/.]/g, '\\$&')).join('|')})(/.*)?$`);

/**
 * - Native packages resolve to a stub that loads them from lib/node_modules beside the executable
 *   (native-require.cjs); everything else is bundled.
 * - Optional packages that are not installed fail quietly (ABSENT_OPTIONAL).
 * - `import.meta.url` (meaningless in CommonJS) becomes the module's URL as if it sat at
 *   lib/app/<its path in the repository>.
 */
function releasePlugin(repoRoot: string): Plugin {
  const shim = join(repoRoot, 'scripts', 'release', 'native-require.cjs');
  return {
    name: 'roadwatch-release',
    setup(b) {
      b.onResolve({ filter: NATIVE_FILTER }, (args) => ({ path: args.path, namespace: 'roadwatch-native' }));
      b.onLoad({ filter: /.*/, namespace: 'roadwatch-native' }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(shim)}).nativeRequire(${JSON.stringify(args.path)});`,
        loader: 'js',
        resolveDir: repoRoot,
      }));
      b.onResolve({ filter: ABSENT_OPTIONAL }, (args) => ({ path: args.path, namespace: 'roadwatch-absent' }));
      b.onLoad({ filter: /.*/, namespace: 'roadwatch-absent' }, (args) => ({
        contents: `throw Object.assign(new Error(${JSON.stringify(`Cannot find module '${args.path}' (not shipped)`)}), { code: 'MODULE_NOT_FOUND' });`,
        loader: 'js',
      }));
      b.onLoad({ filter: /\.(js|mjs)$/ }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        if (!source.includes('import.meta.url')) return undefined;
        const repoPath = relative(repoRoot, args.path).split(sep).join('/');
        const contents =
          `import { metaUrl as __roadwatchMetaUrl } from ${JSON.stringify(shim)};\n` +
          source.replaceAll('import.meta.url', `__roadwatchMetaUrl(${JSON.stringify(repoPath)})`);
        return { contents, loader: 'js' };
      });
    },
  };
}

export interface BundleResult {
  warnings: string[];
}

/** Bundles `entry` into `outfile` (CommonJS, Node 20). */
export async function bundle(repoRoot: string, entry: string, outfile: string): Promise<BundleResult> {
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    plugins: [releasePlugin(repoRoot)],
    minifySyntax: true,
    keepNames: true,
    legalComments: 'eof',
    logLevel: 'silent',
  });
  return { warnings: result.warnings.map((w) => `${w.location?.file ?? ''}:${w.location?.line ?? ''} ${w.text}`) };
}
