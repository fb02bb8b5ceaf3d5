// A simulated drive rendered once and kept (rendering is the slow part), and the agent's replay of
// it run as its own process — what eval:drive and bench:pipeline share.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRUTH_FILE } from './truth.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const AGENT_CLI = join(ROOT, 'agent/bin/roadwatch.js');

function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; capture?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', options.capture ? 'pipe' : 'inherit', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      if (!options.capture) process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} exited with ${code}\n${err.slice(-2000)}`))));
  });
}

/** Renders the drive into `dir` unless the same options already did (the options are kept in dir/options.json). */
export async function ensureDrive(dir: string, options: string[]): Promise<void> {
  const stamp = join(dir, 'options.json');
  const wanted = JSON.stringify(options);
  if (existsSync(join(dir, TRUTH_FILE)) && existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) {
    console.log(`using the drive already rendered in ${dir}`);
    return;
  }
  await run(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/drive/generate.ts'), '--out', dir, ...options]);
  writeFileSync(stamp, wanted);
}

export interface ReplaySummary {
  seconds: number;
  /** Frames detected per second of the whole run, ffmpeg and model start-up included. */
  fps: number;
  /** … from the first frame on (the steady rate). */
  streamFps: number;
  frames: number;
  framesDetected: number;
  events: number;
  maxRssMb: number;
  eventList: { class: string; lat: number; lon: number; confidence: number; hits: number }[];
  [key: string]: unknown;
}

/** `roadwatch replay --video|--frames … --nmea … --json` in a child process with a fresh outbox. */
export async function replayDrive(dir: string, options: { input?: 'video' | 'frames'; config?: object; extra?: string[] } = {}): Promise<ReplaySummary> {
  const data = mkdtempSync(join(tmpdir(), 'rw-replay-'));
  try {
    const args = [AGENT_CLI];
    if (options.config) {
      writeFileSync(join(data, 'config.json'), JSON.stringify(options.config));
      args.push('--config', join(data, 'config.json'));
    }
    const input = options.input === 'frames' ? ['--frames', join(dir, 'frames')] : ['--video', join(dir, 'drive.mkv')];
    args.push('replay', ...input, '--nmea', join(dir, 'drive.nmea'), '--json', ...(options.extra ?? []));
    const out = await run(process.execPath, args, { env: { ROADWATCH_DATA: join(data, 'agent') }, capture: true });
    return JSON.parse(out) as ReplaySummary;
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
}
