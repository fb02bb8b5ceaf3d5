import { UserError } from '@roadwatch/shared';
import { ffmpegMissing } from './camera-errors.js';
import { closed, started, type SpawnFn } from './child.js';
import { DEFAULT_FFMPEG_VERSION, parseFfmpegVersion, type FfmpegVersion } from './ffmpeg-args.js';

/** Runs `ffmpeg -version`: rejects with the fix when ffmpeg cannot be run; a version it cannot parse (a git build) counts as current. */
export async function probeFfmpeg(path: string, spawn: SpawnFn): Promise<{ version: FfmpegVersion; banner: string }> {
  const child = spawn(path, ['-hide_banner', '-version'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const error = await started(child);
  if (error) {
    if (error.code === 'ENOENT' || error.code === 'EACCES') throw ffmpegMissing(path, error);
    throw new UserError(`cannot run ffmpeg at "${path}": ${error.message}`, 'check camera.ffmpegPath');
  }
  await closed(child);
  return { version: parseFfmpegVersion(text) ?? DEFAULT_FFMPEG_VERSION, banner: text.split('\n')[0] ?? '' };
}
