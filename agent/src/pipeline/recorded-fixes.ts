import { readFile } from 'node:fs/promises';
import { UserError } from '@roadwatch/shared';
import type { Fix } from '../gps/fix.js';
import { NmeaReader, type NmeaStats } from '../gps/nmea-reader.js';

export interface RecordedFixes {
  /** Fixes with a date, in time order (fixes before the log's first date cannot be placed in time). */
  fixes: Fix[];
  /** Epochs that had no date yet. */
  undated: number;
  stats: NmeaStats;
}

/** Reads a recorded NMEA log whole (a day of 10 Hz NMEA is ~60 MB of text; a drive is far less). */
export async function readRecordedFixes(file: string): Promise<RecordedFixes> {
  let text: string;
  try {
    text = await readFile(file, 'latin1');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT' ? `NMEA log ${file} not found` : `NMEA log ${file} cannot be read: ${(error as Error).message}`,
      code === 'ENOENT' ? 'check the path given to --nmea' : 'check the file permissions',
    );
  }
  const reader = new NmeaReader({ commentPrefix: '#' });
  const all = [...reader.push(text), ...reader.end()];
  const fixes = all.filter((fix) => fix.time !== null).sort((a, b) => Date.parse(a.time!) - Date.parse(b.time!));
  return { fixes, undated: all.length - fixes.length, stats: reader.stats() };
}

/** GPS time of the first fix with a date, ms; null when the log has none. */
export function firstFixTimeMs(recorded: RecordedFixes): number | null {
  const first = recorded.fixes[0];
  return first ? Date.parse(first.time!) : null;
}
