// Feeds a simulated drive through the Fusion facade and scores its events against the defects.
import type { EventBodyInput } from '@roadwatch/shared';
import { distanceM } from '../geo.js';
import { Fusion, type FusionStats } from '../index.js';
import type { FusionOptions } from '../config.js';
import type { Drive, SimDefect } from './drive.js';

export interface EmittedEvent {
  /** Frame time at which onFrame returned it (null: from flush). */
  emittedAtMs: number | null;
  event: EventBodyInput;
}

export interface DriveRun {
  events: EmittedEvent[];
  stats: FusionStats;
}

export function runDrive(drive: Drive, options: FusionOptions): DriveRun {
  const fusion = new Fusion(options);
  const events: EmittedEvent[] = [];
  for (const input of drive.inputs) {
    if (input.kind === 'fix') fusion.onFix(input.fix);
    else for (const event of fusion.onFrame(input.frame)) events.push({ emittedAtMs: input.frame.tMs, event });
  }
  for (const event of fusion.flush()) events.push({ emittedAtMs: null, event });
  return { events, stats: fusion.stats() };
}

/** Events of the defect's class within `radiusM`, nearest first. */
export function eventsFor(run: DriveRun, defect: SimDefect, radiusM = 10): { event: EventBodyInput; errorM: number; emittedAtMs: number | null }[] {
  return run.events
    .filter((e) => e.event.class === defect.class)
    .map((e) => ({ event: e.event, errorM: distanceM(e.event, defect), emittedAtMs: e.emittedAtMs }))
    .filter((e) => e.errorM <= radiusM)
    .sort((a, b) => a.errorM - b.errorM);
}
