import { processIo } from './io.js';
import { runCli } from './program.js';

// Entry of the `roadwatch` bin (agent/bin/roadwatch.js imports the built copy of this file).
process.exitCode = await runCli(process.argv.slice(2), processIo());
