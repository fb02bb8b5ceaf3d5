import { runCli } from './program.js';

// Entry point of the `roadwatch-hub` binary (hub/bin/roadwatch-hub.js imports the built file).
const code = await runCli(process.argv);
process.exitCode = code;
// Everything is closed by now; if a stray handle still holds the event loop, do not hang forever.
setTimeout(() => process.exit(code), 3_000).unref();
