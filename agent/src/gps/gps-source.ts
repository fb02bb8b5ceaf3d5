import type { Fix } from './fix.js';

/**
 * The GPS port: what the pipeline sees of a receiver, whatever it is behind it (a serial NMEA
 * receiver, gpsd, a recorded log). Adapters: SerialGpsSource, GpsdSource, NmeaFileSource.
 */
export interface GpsSource {
  /** For logs and status: `serial:/dev/ttyUSB0`, `gpsd:127.0.0.1:2947`, `file:drive.nmea`. */
  readonly name: string;
  /**
   * Opens the receiver. Resolves after the first attempt whatever its outcome: a port that is not
   * there or not allowed shows in `status()` as a fault (with what to do), and the source keeps
   * retrying with backoff until `stop()`. Never rejects for a device problem.
   */
  start(): Promise<void>;
  /** Closes the receiver and stops retrying; idempotent. */
  stop(): Promise<void>;
  status(): GpsStatus;
  /** Every fix, one per receiver epoch (also no-fix epochs: check `mode`). Returns an unsubscribe. */
  onFix(listener: (fix: Fix) => void): () => void;
  /** Called when `state` or `message` changes. Returns an unsubscribe. */
  onStatus(listener: (status: GpsStatus) => void): () => void;
  /**
   * Every line the receiver sends, as received (NMEA sentences, good or bad; gpsd's JSON reports),
   * for a technician watching the stream (`roadwatch gps --watch`). Optional: a source without it has
   * no raw stream to show. Returns an unsubscribe.
   */
  onSentence?(listener: (line: string) => void): () => void;
}

/**
 * - ok: fixes with a position are arriving;
 * - no-fix: data arrives but the receiver has no position (yet);
 * - no-data: nothing usable arrives (not started, silent port, wrong baud rate, gpsd without a device);
 * - fault: the device cannot be used (missing, no permission, unplugged, connection refused) —
 *   the source retries by itself.
 */
export type GpsState = 'ok' | 'no-fix' | 'no-data' | 'fault';

export interface GpsStatus {
  state: GpsState;
  /** One line for a person: what is happening and, when something is wrong, what to do. */
  message: string;
  /** GPS time of the last fix with a position (ISO), or its time of day when the receiver gave no date yet. */
  lastFixAt: string | null;
  /** Milliseconds since the last fix with a position arrived (monotonic), null before the first. */
  lastFixAgeMs: number | null;
  lastFix: Fix | null;
  /** Good sentences (or gpsd reports) received since the source was created. */
  sentences: number;
  checksumErrors: number;
  badLines: number;
  /** Successful re-opens (or reconnects) after the first open. */
  reopenCount: number;
  /** The last device error, explained, kept after recovery; null if there never was one. */
  lastError: string | null;
}

/** Moved to util/listeners.ts (the camera uses it too); re-exported for existing imports. */
export { Listeners } from '../util/listeners.js';
