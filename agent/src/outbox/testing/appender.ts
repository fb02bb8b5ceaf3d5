// Appends one event at a time forever, printing `seq eventId` after each append returned.
// The kill -9 test in sqlite-outbox.test.ts runs it as a child process: node --import tsx appender.ts FILE
import pino from 'pino';
import { SqliteOutbox } from '../sqlite-outbox.js';
import { sampleEvent } from './sample-events.js';

const file = process.argv[2];
if (!file) throw new Error('usage: appender.ts OUTBOX_FILE');
const outbox = new SqliteOutbox({ path: file, logger: pino({ level: 'silent' }), maxBytes: 1e12, maxAgeMs: 1e12 });
for (let i = 0; ; i++) {
  const [event] = outbox.append([sampleEvent(i)]);
  process.stdout.write(`${event!.seq} ${event!.eventId}\n`);
}
