// Entry of the release's single executable (bundled by scripts/release/bundle.ts into CommonJS,
// which has no top-level await: agent/dist/cli/main.js does the same with one).
import { processIo } from '../../agent/dist/cli/io.js';
import { runCli } from '../../agent/dist/cli/program.js';

runCli(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`roadwatch: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 2;
  },
);
