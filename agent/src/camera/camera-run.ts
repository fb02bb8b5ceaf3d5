import type { ChildProcess } from 'node:child_process';
import type { ChildExit } from './camera-errors.js';
import { terminate } from './child.js';
import { FrameCutter } from './frame-cutter.js';
import { LogTail } from './log-tail.js';

/** One ffmpeg process (and its capture program for the piped presets), from spawn to exit. */
export interface Run {
  ffmpeg: ChildProcess | null;
  producer: ChildProcess | null;
  producerCommand: string | null;
  producerExit: ChildExit | null;
  ffmpegTail: LogTail;
  producerTail: LogTail;
  cutter: FrameCutter;
  /** Recorded sources: index in the recording of this run's first frame. */
  startFrame: number;
  frames: number;
  /** Monotonic ms of the last sign of life (spawn, a frame, the sink taking the next one). */
  lastProgress: number;
  usedMjpeg: boolean;
  killReason: 'stall' | 'stop' | null;
  spawnError: string | null;
  /** Backpressure: stdout is paused and these chunks (or rests of one) wait for the sink. */
  paused: boolean;
  held: Buffer[];
  exited: boolean;
}

export function newRun(options: { frameBytes: number; startFrame: number; usedMjpeg: boolean; producerCommand: string | null; now: number }): Run {
  return {
    ffmpeg: null,
    producer: null,
    producerCommand: options.producerCommand,
    producerExit: null,
    ffmpegTail: new LogTail(),
    producerTail: new LogTail(),
    cutter: new FrameCutter(options.frameBytes),
    startFrame: options.startFrame,
    frames: 0,
    lastProgress: options.now,
    usedMjpeg: options.usedMjpeg,
    killReason: null,
    spawnError: null,
    paused: false,
    held: [],
    exited: false,
  };
}

/** Stops ffmpeg and the capture program (its whole process group); resolves when both are gone. */
export async function killRun(run: Run, graceMs: number): Promise<void> {
  run.held = [];
  run.ffmpeg?.stdout?.resume(); // a paused pipe would keep ffmpeg's 'close' from coming
  await Promise.all([run.ffmpeg && terminate(run.ffmpeg, graceMs), run.producer && terminate(run.producer, graceMs, true)]);
}

/** The last thing ffmpeg or the capture program said. */
export function lastMessage(run: Run): string | undefined {
  return [...run.producerTail.lines(), ...run.ffmpegTail.lines()].at(-1);
}
