/**
 * The camera port: what the pipeline sees of a camera, whatever is behind it (ffmpeg reading a V4L2
 * device, an RTSP stream, a video file, a folder of JPEGs, or a vendor capture command).
 */
export interface Frame {
  /** 1, 2, 3 … per source, across restarts (a gap means frames were dropped). */
  seq: number;
  /** Monotonic ms (performance.now()) when the whole frame had arrived. */
  monoMs: number;
  /**
   * For recorded sources (file, frames): the frame's time from the start of the recording, ms,
   * at the capped fps (frame n at n·1000/fps). Null for live sources.
   */
  ptsMs: number | null;
  width: number;
  height: number;
  /** Raw interleaved RGB, width·height·3 bytes (ffmpeg decodes and scales; no JPEG work in Node). */
  rgb: Buffer;
}

/**
 * Takes one frame. Live sources never wait for it: while the previous call's promise is pending the
 * newest frame is dropped and counted. Recorded sources played as fast as possible wait instead
 * (ffmpeg is paused by backpressure), so replay loses no frame.
 */
export type FrameSink = (frame: Frame) => Promise<void> | void;

/**
 * - ok: frames arrive;
 * - starting: ffmpeg is up, no frame yet;
 * - stalled: no frame for `stallS`: ffmpeg is being restarted with backoff;
 * - fault: ffmpeg exited or cannot start (missing device, refused stream, missing file); retried with backoff;
 * - ended: a recorded source reached its end (not retried);
 * - stopped: not started, or stopped.
 */
export type CameraState = 'ok' | 'starting' | 'stalled' | 'fault' | 'ended' | 'stopped';

export interface CameraStatus {
  state: CameraState;
  /** One line for a person: what is happening and, when something is wrong, what to do. */
  message: string;
  framesIn: number;
  /** Frames that arrived while the sink was still busy with the previous one (live sources). */
  framesDropped: number;
  /** ffmpeg restarts after a stall or an exit. */
  restarts: number;
  /** Decoder complaints ffmpeg printed (corrupt frames it concealed or skipped). */
  decodeErrors: number;
  /** The last error, with ffmpeg's own words; kept after recovery; null if there never was one. */
  lastError: string | null;
  /** Monotonic ms since the last frame, null before the first. */
  lastFrameAgeMs: number | null;
}

export interface FrameSource {
  /** For logs and status: `v4l2:/dev/video0`, `rtsp://cam/stream`, `file:drive.mp4`, `frames:DIR`. */
  readonly name: string;
  /** True for file and frames sources: frames carry ptsMs and the source can end. */
  readonly recorded: boolean;
  /**
   * Starts capturing into `sink`. Resolves once ffmpeg has been spawned, whatever happens next: a
   * device that is missing shows in `status()` as a fault and is retried with backoff until `stop()`.
   * Rejects only when ffmpeg itself cannot be found (names the fix: apt install ffmpeg).
   */
  start(sink: FrameSink): Promise<void>;
  /** Stops ffmpeg and retrying; waits for a sink call in progress. Idempotent. */
  stop(): Promise<void>;
  status(): CameraStatus;
  /** Resolves when a recorded source has delivered its last frame and the sink has finished with it. */
  ended(): Promise<void>;
  /** Called when `state` or `message` changes. Returns an unsubscribe. */
  onStatus(listener: (status: CameraStatus) => void): () => void;
}
