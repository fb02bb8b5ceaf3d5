// Node single executable application: the bundle as a SEA blob, injected with postject into a copy
// of the node binary that runs this script (so an arm64 release is built on an arm64 machine).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** The fuse every Node binary carries; postject flips it so node runs the injected blob. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

interface Postject {
  inject(file: string, resource: string, data: Buffer, options: { sentinelFuse: string; overwrite?: boolean }): Promise<void>;
}

export interface SeaOptions {
  /** The CommonJS bundle to run. */
  bundle: string;
  /** Scratch folder for the SEA config and blob. */
  workDir: string;
  /** The executable to write. */
  output: string;
  /** Remove the node binary's symbol tables first (Debian's node carries ~12 MB of them). */
  strip: boolean;
}

export async function buildSea({ bundle, workDir, output, strip }: SeaOptions): Promise<{ stripped: boolean }> {
  const blob = join(workDir, 'sea-prep.blob');
  const config = join(workDir, 'sea-config.json');
  writeFileSync(
    config,
    JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }, null, 2),
  );
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: ['ignore', 'ignore', 'inherit'] });

  copyFileSync(process.execPath, output);
  chmodSync(output, 0o755);
  let stripped = false;
  if (strip) {
    try {
      execFileSync('strip', ['--strip-all', output], { stdio: 'ignore' });
      stripped = true;
    } catch {
      // binutils missing: the executable is only larger.
    }
  }
  const postject = createRequire(import.meta.url)('postject') as Postject;
  await postject.inject(output, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE });
  return { stripped };
}
