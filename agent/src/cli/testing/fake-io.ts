import { EventEmitter } from 'node:events';
import type { CliIo } from '../io.js';

export interface FakeIo extends CliIo {
  out: () => string;
  err: () => string;
  signals: EventEmitter;
  /** Exit codes the command asked for, in order. */
  exits: number[];
}

/** A CliIo that collects what a command writes, for running commands in-process. */
export function fakeIo(env: NodeJS.ProcessEnv = {}, clock: () => number = Date.now): FakeIo {
  let out = '';
  let err = '';
  const exits: number[] = [];
  return {
    stdout: { write: (s: string) => void (out += s) },
    stderr: { write: (s: string) => void (err += s) },
    env,
    clock,
    signals: new EventEmitter(),
    exit: (code) => void exits.push(code),
    out: () => out,
    err: () => err,
    exits,
  };
}
