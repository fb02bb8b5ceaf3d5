import { execFile } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** ffprobe beside the configured ffmpeg (`/opt/ffmpeg/bin/ffmpeg` → `/opt/ffmpeg/bin/ffprobe`). */
export function ffprobeBeside(ffmpegPath: string): string {
  const name = basename(ffmpegPath).replace(/ffmpeg/, 'ffprobe');
  return ffmpegPath.includes('/') ? join(dirname(ffmpegPath), name) : name;
}

/**
 * The `creation_time` a video carries in its container tags (cameras and the drive simulator write
 * it), ms; null when it has none or ffprobe cannot tell.
 */
export async function videoCreationTimeMs(file: string, ffprobePath: string): Promise<number | null> {
  try {
    const { stdout } = await run(ffprobePath, ['-v', 'error', '-show_entries', 'format_tags=creation_time', '-of', 'default=noprint_wrappers=1:nokey=1', file], { timeout: 15_000 });
    const ms = Date.parse(stdout.trim());
    return Number.isFinite(ms) ? ms : null;
  } catch {
    return null;
  }
}

export type StartSource = 'option' | 'video' | 'nmea';

/**
 * When the recording's first frame was taken, on the GPS time base: `--start` when given, else the
 * video's creation time, else the NMEA log's first dated fix (a camera and receiver started together).
 */
export function chooseStart(candidates: { option?: number | null; video?: number | null; nmea?: number | null }): { ms: number; source: StartSource } | null {
  for (const source of ['option', 'video', 'nmea'] as const) {
    const ms = candidates[source];
    if (ms !== null && ms !== undefined && Number.isFinite(ms)) return { ms, source };
  }
  return null;
}

/** Duration of a video in ms from its container, null when ffprobe cannot tell. */
export async function videoDurationMs(file: string, ffprobePath: string): Promise<number | null> {
  try {
    const { stdout } = await run(ffprobePath, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=noprint_wrappers=1:nokey=1', file], { timeout: 15_000 });
    const s = Number(stdout.trim());
    return Number.isFinite(s) && s > 0 ? s * 1000 : null;
  } catch {
    return null;
  }
}
