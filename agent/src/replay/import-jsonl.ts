import { constants, createReadStream } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { EventBodySchema, UserError, formatZodIssues, type EventBodyInput } from '@roadwatch/shared';
import { isValidBody } from '../outbox/body-guard.js';
import type { Outbox } from '../outbox/outbox.js';

export interface ImportJsonlOptions {
  /** One event per line: the protocol v1 event shape without `eventId` and `seq`. */
  file: string;
  outbox: Pick<Outbox, 'append'>;
  logger: Logger;
  /** Events per outbox transaction. */
  chunkSize?: number;
  /** Bad lines kept in `errors` (all are counted in `skipped`), so a wrong file cannot fill memory. */
  maxErrors?: number;
}

export interface ImportLineError {
  /** 1-based line number in the file. */
  line: number;
  /** The cause, e.g. `lat: lat out of range (−90…90)`; print it as `line N: cause`. */
  message: string;
}

export interface ImportResult {
  imported: number;
  skipped: number;
  errors: ImportLineError[];
}

/**
 * Streams a JSONL file into the outbox. A bad line is skipped and reported with its number; the
 * rest is imported in chunks of `chunkSize`, each chunk one transaction. Empty lines are ignored.
 *
 * A line that carries `eventId` or `seq` is refused rather than stripped: those are assigned by the
 * agent, and such a line is most likely an event that was already sent, which would reach the hub
 * a second time under a new id.
 *
 * Chunks committed before an interruption stay imported; running the same file again imports them
 * again (with new ids).
 */
export async function importJsonl({ file, outbox, logger, chunkSize = 1000, maxErrors = 1000 }: ImportJsonlOptions): Promise<ImportResult> {
  await assertEventsFileReadable(file);
  const result: ImportResult = { imported: 0, skipped: 0, errors: [] };
  let chunk: EventBodyInput[] = [];
  const flush = () => {
    if (chunk.length === 0) return;
    outbox.append(chunk);
    result.imported += chunk.length;
    logger.debug({ file, imported: result.imported }, 'replay chunk imported');
    chunk = [];
  };

  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo++;
    const text = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (text.trim() === '') continue;
    const parsed = parseLine(text);
    if (typeof parsed === 'string') {
      result.skipped++;
      if (result.errors.length < maxErrors) result.errors.push({ line: lineNo, message: parsed });
      continue;
    }
    chunk.push(parsed);
    if (chunk.length >= chunkSize) flush();
  }
  flush();
  logger.info({ file, imported: result.imported, skipped: result.skipped }, 'replay import finished');
  return result;
}

/** The event body, or the reason the line cannot be imported. */
function parseLine(text: string): EventBodyInput | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `not valid JSON: ${(error as Error).message}`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `expected a JSON object (one event per line), got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`;
  }
  const assigned = ['eventId', 'seq'].filter((key) => key in value);
  if (assigned.length > 0) {
    return `${assigned.join(' and ')} ${assigned.length > 1 ? 'are' : 'is'} assigned by the agent — remove ${assigned.length > 1 ? 'them' : 'it'} from the line (an event that already has an id was probably sent before)`;
  }
  if (isValidBody(value)) return value as EventBodyInput;
  const checked = EventBodySchema.safeParse(value);
  return checked.success ? (value as EventBodyInput) : formatZodIssues(checked.error).join('; ');
}

/** Throws a UserError naming the fix when the events file is missing, a directory or unreadable. */
export async function assertEventsFileReadable(file: string): Promise<void> {
  const fix = 'pass the path of an existing JSONL file (one event per line) with --events';
  let info;
  try {
    info = await stat(file);
    await access(file, constants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`events file ${file}: not found`, fix);
    if (code === 'EACCES') throw new UserError(`events file ${file}: permission denied`, 'make the file readable by this user');
    throw new UserError(`events file ${file}: ${(error as Error).message}`, fix);
  }
  if (info.isDirectory()) throw new UserError(`events file ${file} is a directory`, fix);
}
