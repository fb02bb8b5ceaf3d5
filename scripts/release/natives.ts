// Copies the agent's native packages and the JavaScript they load at run time into the release's
// lib/node_modules, keeping only this platform's binaries. The bundle marks these packages
// external and loads them from there (see native-require.cjs).
import { cpSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

/** Packages with a native binding: external to the bundle, shipped as package folders. */
export const NATIVE_PACKAGES = ['onnxruntime-node', 'sharp', 'better-sqlite3', '@serialport/bindings-cpp'] as const;

/**
 * Dependencies only their install step uses (downloading or compiling the binding): never loaded at
 * run time, so not shipped. sharp's optional @img/* packages are handled by platform below.
 */
const INSTALL_ONLY = new Set(['adm-zip', 'global-agent', 'prebuild-install', 'node-addon-api', 'node-gyp']);

export interface NativeCopy {
  /** Package folders copied, relative to lib/ (e.g. `node_modules/sharp`). */
  packages: string[];
}

/** Finds `name` as Node would from `fromDir`: fromDir/node_modules/name, then each parent's. */
function findPackage(name: string, fromDir: string): string | null {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

interface PackageJson {
  name: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** Optional dependencies that belong to this platform (sharp's `@img/sharp-linux-x64`, …); others are skipped. */
function wantedOptional(name: string, platform: string, arch: string): boolean {
  if (!name.startsWith('@img/')) return false;
  return name === `@img/sharp-${platform}-${arch}` || name === `@img/sharp-libvips-${platform}-${arch}`;
}

/**
 * The run-time dependency closure of the native packages, as folders under `nodeModulesRoot`'s
 * parent, mirrored into `libDir` so every package resolves its dependencies exactly as it does
 * in the workspace (nested node_modules included).
 */
export function copyNativePackages(repoRoot: string, libDir: string, platform: string, arch: string): NativeCopy {
  const seen = new Set<string>();
  const queue: string[] = [];
  const add = (name: string, fromDir: string, optional: boolean) => {
    const dir = findPackage(name, fromDir);
    if (!dir) {
      if (optional) return;
      throw new Error(`release: ${name} is not installed (from ${relative(repoRoot, fromDir) || '.'}) — run npm ci first`);
    }
    if (!seen.has(dir)) {
      seen.add(dir);
      queue.push(dir);
    }
  };
  for (const name of NATIVE_PACKAGES) add(name, join(repoRoot, 'agent'), false);
  while (queue.length > 0) {
    const dir = queue.shift()!;
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
    for (const dep of Object.keys(pkg.dependencies ?? {})) if (!INSTALL_ONLY.has(dep)) add(dep, dir, false);
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) if (wantedOptional(dep, platform, arch)) add(dep, dir, true);
  }
  const packages: string[] = [];
  for (const dir of [...seen].sort()) {
    const rel = relative(repoRoot, dir); // node_modules/…, possibly nested
    if (rel.startsWith('..') || !rel.startsWith(`node_modules${sep}`)) throw new Error(`release: ${dir} is outside the workspace's node_modules`);
    const target = join(libDir, rel);
    const native = existsSync(join(dir, 'binding.gyp'));
    cpSync(dir, target, { recursive: true, dereference: true, filter: (src) => keep(relative(dir, src), platform, arch, native) });
    packages.push(rel.split(sep).join('/'));
  }
  return { packages };
}

/**
 * Whether a file (path relative to its package root) belongs in the release. `native`: the package
 * compiles a binding (has binding.gyp), so its src/ and deps/ are C/C++ sources, not JavaScript.
 */
export function keep(rel: string, platform: string, arch: string, native: boolean): boolean {
  if (rel === '') return true;
  const parts = rel.split(sep);
  const [top, second] = parts;
  const base = parts[parts.length - 1]!;
  // Nested dependency folders are copied as packages of their own (only the needed ones).
  if (top === 'node_modules') return false;
  // Sources, build intermediates, docs and type declarations.
  if (native && ['src', 'deps', 'install'].includes(top!)) return false;
  if (['docs', 'test', 'tests', 'binding.gyp', '.github'].includes(top!)) return false;
  if (/\.(d\.ts|d\.cts|d\.mts|ts|map|md|markdown|gyp|gypi|cc|cpp|h|hpp|c)$/i.test(base) && !/^licen[cs]e/i.test(base)) return false;
  // better-sqlite3: only build/Release/*.node (not obj/, .a, the test extension).
  if (top === 'build') {
    if (parts.length === 1 || (second === 'Release' && parts.length === 2)) return true;
    return second === 'Release' && parts.length === 3 && base.endsWith('.node') && base !== 'test_extension.node';
  }
  // @serialport/bindings-cpp: prebuilds/<platform>-<arch> only.
  if (top === 'prebuilds' && second !== undefined) return second === `${platform}-${arch}`;
  // onnxruntime-node: bin/napi-vN/<platform>/<arch> only.
  if (top === 'bin' && /^napi-v\d+$/.test(second ?? '') && parts.length >= 3) {
    if (parts[2] !== platform) return false;
    return parts.length === 3 || parts[3] === arch;
  }
  return true;
}

/** Total size in bytes of a folder. */
export function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? folderBytes(path) : statSync(path).size;
  }
  return total;
}
