import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { fixJson, type FixJson } from '../gps/fix.js';
import type { GpsSource } from '../gps/gps-source.js';

/** A client that reads slower than this many buffered bytes loses lines (counted) rather than growing memory. */
const MAX_BUFFERED = 1024 * 1024;
/** Longer lines (junk at a wrong baud rate) are cut. */
const MAX_LINE = 300;

/** One line of `GET /gps/stream` (newline-delimited JSON). */
export type GpsStreamLine =
  | { type: 'hello'; gps: string; state: string; message: string }
  | { type: 'fix'; at: string; fix: FixJson }
  | { type: 'sentence'; at: string; line: string }
  | { type: 'status'; at: string; state: string; message: string }
  | { type: 'dropped'; at: string; lines: number };

/**
 * Streams the service's GPS while the client stays connected: a hello with the current state, then
 * every fix, every raw line from the receiver and every status change. Listeners are removed when
 * the client goes.
 */
export function openGpsStream(gps: GpsSource, req: IncomingMessage, res: ServerResponse, log: Logger): void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  res.flushHeaders();
  let dropped = 0;
  const send = (line: GpsStreamLine) => {
    if (res.writableEnded || res.destroyed) return;
    if (res.writableLength > MAX_BUFFERED) {
      dropped += 1;
      return;
    }
    if (dropped > 0) {
      res.write(`${JSON.stringify({ type: 'dropped', at: new Date().toISOString(), lines: dropped })}\n`);
      dropped = 0;
    }
    res.write(`${JSON.stringify(line)}\n`);
  };
  const now = () => new Date().toISOString();
  const status = gps.status();
  send({ type: 'hello', gps: gps.name, state: status.state, message: status.message });
  const offs = [
    gps.onFix((fix) => send({ type: 'fix', at: now(), fix: fixJson(fix) })),
    gps.onStatus((s) => send({ type: 'status', at: now(), state: s.state, message: s.message })),
    gps.onSentence?.((line) => send({ type: 'sentence', at: now(), line: line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line })) ?? (() => undefined),
  ];
  const close = () => {
    for (const off of offs.splice(0)) off();
    log.debug('gps stream client left');
  };
  req.on('close', close);
  res.on('close', close);
}
