'use strict';
// Bundled into the release's `roadwatch` executable (a Node single executable application).
// Inside a SEA the main script's `require` sees only Node's built-in modules, so the native
// packages the bundle marks external (onnxruntime-node, sharp, better-sqlite3,
// @serialport/bindings-cpp) are loaded with a require rooted at lib/ beside the executable,
// where the release ships them as ordinary package folders (lib/node_modules/…).
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');

// process.execPath is the real path of the executable (a symlink such as
// /usr/local/bin/roadwatch -> /opt/roadwatch/roadwatch resolves to /opt/roadwatch).
const releaseDir = dirname(process.execPath);
const libDir = join(releaseDir, 'lib');
let requireFromLib;

/** Loads a package shipped under lib/node_modules. */
exports.nativeRequire = function nativeRequire(id) {
  requireFromLib ??= createRequire(join(libDir, 'roadwatch-natives.cjs'));
  try {
    return requireFromLib(id);
  } catch (error) {
    if (error && error.code === 'MODULE_NOT_FOUND') {
      error.message = `${error.message}\n(the roadwatch release loads ${id} from ${join(libDir, 'node_modules')}: keep lib/ beside the roadwatch executable)`;
    }
    throw error;
  }
};

/**
 * `import.meta.url` of a bundled module, as if the module sat at lib/app/<path in the repository>:
 * the agent reads its package.json (`--version`) and finds its inference worker relative to it,
 * and the release ships lib/app/agent/package.json and lib/app/agent/dist/detect/worker.js there.
 */
exports.metaUrl = function metaUrl(repoPath) {
  return pathToFileURL(join(libDir, 'app', repoPath)).href;
};
