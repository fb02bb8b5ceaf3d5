import type { DestinationStream } from 'pino';

/** A place the CLI writes text to; also usable as a pino destination. */
export type TextSink = DestinationStream;

/** Everything a command touches outside itself, so tests run commands in-process. */
export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  env: NodeJS.ProcessEnv;
  clock: () => number;
  /** SIGINT / SIGTERM source for `run`. */
  signals: Pick<NodeJS.EventEmitter, 'on' | 'off'>;
  /** Ends the process (`run` after stop, or at once on a second signal). */
  exit: (code: number) => void;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    clock: Date.now,
    signals: process,
    exit: (code) => process.exit(code),
  };
}
