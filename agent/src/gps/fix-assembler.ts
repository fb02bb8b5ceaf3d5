import { epochFix, type EpochContext } from './epoch-fix.js';
import type { Fix } from './fix.js';
import type { Sentence } from './nmea-decode.js';

/**
 * Merges the sentences of one receiver epoch (one UTC time of fix) into one `Fix`. Pure: no clock,
 * no I/O; the caller passes the monotonic time a sentence arrived, if it has one.
 *
 * Epochs. GGA, RMC, GLL and GNS carry the time of fix; a timed sentence with a new time closes the
 * epoch before it, and so does a second sentence of a type and talker the epoch already has (a
 * receiver repeating its last time, or `$GPRMC,,V,…` without a time while it searches: one no-fix
 * per cycle). GSA, GSV, VTG and ZDA carry no epoch time (ZDA's clock may run ahead of the fix, as
 * on the Ashtech AC12) and join the open epoch.
 *
 * Latency: waiting for the next epoch's first sentence would delay every fix by one cycle. Like
 * gpsd, the assembler learns the cycle ender — the sentence that ended the previous complete epoch —
 * and emits as soon as it arrives again. Sentences after the emission and before the next time
 * open the next epoch. If a timed sentence of the emitted epoch turns up after the emission, the
 * ender was wrong: it is forgotten and learned again from the next complete epoch.
 */
export class FixAssembler {
  private epoch: Sentence[] = [];
  private epochKey: string | null = null;
  private epochRx: number | null = null;
  private emitted = false;
  private pending: Sentence[] = [];
  private pendingRx: number | null = null;
  private ender: string | null = null;
  private readonly context: EpochContext = { lastInstantMs: null, lastTimeKey: null, lastMode: 0, lastHadAltitude: false };

  /** Adds one decoded sentence; returns the fix it completes, if any (at most one). */
  push(sentence: Sentence, rxMono: number | null = null): Fix[] {
    const out: Fix[] = [];
    const key = timeKey(sentence);
    if (key !== undefined) {
      // Same epoch: the same time (or none), and not a second sentence of a type+talker it has.
      const sameEpoch = (key === null || key === this.epochKey) && !this.repeats(sentence);
      if (this.emitted) {
        if (sameEpoch) {
          // A timed sentence of the epoch already emitted: the learned ender came too early.
          this.ender = null;
          return out;
        }
        this.startNext();
      } else if (hasTimedSentence(this.epoch) && !sameEpoch) {
        this.close(out);
        this.startNext();
      }
      if (!hasTimedSentence(this.epoch)) this.epochKey = key;
    } else if (this.emitted) {
      if (this.pending.length === 0) this.pendingRx = rxMono;
      this.pending.push(sentence);
      return out;
    }
    if (this.epoch.length === 0) this.epochRx = rxMono;
    this.epoch.push(sentence);
    if (this.ender !== null && enderKey(sentence) === this.ender && hasTimedSentence(this.epoch)) {
      out.push(this.build());
      this.emitted = true;
    }
    return out;
  }

  /** End of input: emits the open epoch, if it was not emitted yet. */
  flush(): Fix[] {
    const out: Fix[] = [];
    this.close(out);
    this.pending = [];
    this.pendingRx = null;
    return out;
  }

  /** Emits the open epoch unless it was emitted already, and learns the cycle ender from it. */
  private close(out: Fix[]): void {
    if (!this.emitted && hasTimedSentence(this.epoch)) {
      const last = this.epoch[this.epoch.length - 1];
      this.ender = last ? enderKey(last) : null;
      out.push(this.build());
    }
    this.epoch = [];
    this.epochKey = null;
    this.epochRx = null;
    this.emitted = false;
  }

  /** The next epoch starts with the untimed sentences that came after the last emission. */
  private startNext(): void {
    this.epoch = this.pending;
    this.epochRx = this.pendingRx;
    this.epochKey = null;
    this.emitted = false;
    this.pending = [];
    this.pendingRx = null;
  }

  private build(): Fix {
    return epochFix(this.epoch, this.context, this.epochRx);
  }

  private repeats(sentence: Sentence): boolean {
    return this.epoch.some((s) => s.type === sentence.type && s.talker === sentence.talker);
  }
}

/**
 * The epoch time of a sentence: its `hh:mm:ss.sss` for GGA/RMC/GLL/GNS, null for one of those
 * without a usable time, undefined for sentences that do not mark epochs.
 */
function timeKey(s: Sentence): string | null | undefined {
  switch (s.type) {
    case 'GGA':
    case 'RMC':
    case 'GLL':
    case 'GNS':
      return s.time?.text ?? null;
    default:
      return undefined;
  }
}

function hasTimedSentence(sentences: readonly Sentence[]): boolean {
  return sentences.some((s) => timeKey(s) !== undefined);
}

/** Identity of a sentence for cycle-ender learning: type and talker, GSA system and GSV part. */
function enderKey(s: Sentence): string {
  if (s.type === 'GSA') return `${s.talker}GSA/${s.systemId ?? ''}`;
  if (s.type === 'GSV') return `${s.talker}GSV/${s.signalId ?? ''}/${s.index === s.total ? 'last' : s.index}`;
  return `${s.talker}${s.type}`;
}
