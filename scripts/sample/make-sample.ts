// Regenerates scripts/sample/events.jsonl, the drive `npm start` syncs: npx tsx scripts/sample/make-sample.ts
import { writeFileSync } from 'node:fs';
import { makeEvents } from '../../test/support/events.js';

const events = makeEvents(250, 2026, Date.parse('2026-11-21T07:30:00Z'));
writeFileSync(new URL('./events.jsonl', import.meta.url), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
console.log(`wrote ${events.length} events`);
