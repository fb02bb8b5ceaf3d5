import type { StdioOptions } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { Backoff } from '../uplink/backoff.js';
import { Listeners } from '../util/listeners.js';
import { explainExit, explainSpawnError, explainStall, type ChildExit } from './camera-errors.js';
import { killRun, lastMessage, newRun, type Run } from './camera-run.js';
import { defaultSpawn, started, terminate, type SpawnFn } from './child.js';
import { cameraName, dropsFrames, ffmpegPlan, isRecorded, redactCredentials, type CameraSettings, type FfmpegVersion } from './ffmpeg-args.js';
import { probeFfmpeg } from './ffmpeg-probe.js';
import type { CameraState, CameraStatus, Frame, FrameSink, FrameSource } from './frame-source.js';
import { LogTail } from './log-tail.js';

export interface FfmpegCameraDeps {
  logger: Logger;
  /** child_process.spawn by default; tests wrap it to see the processes. */
  spawn?: SpawnFn;
  /** Monotonic ms; performance.now by default. */
  now?: () => number;
  /** For the restart backoff's jitter. */
  random?: () => number;
  /** SIGTERM → SIGKILL grace when ffmpeg or the capture program is stopped (default 2000 ms). */
  killGraceMs?: number;
}

/**
 * A camera read through ffmpeg: a V4L2 device, an RTSP or HTTP MJPEG stream, a video file, a
 * folder of JPEGs, or a capture program (rpicam-vid, GStreamer on a Jetson, any command) piped into
 * ffmpeg. ffmpeg decodes, caps the rate and scales; Node only cuts its stdout into RGB frames.
 *
 * Failures never end the source: ffmpeg exiting (missing device, refused stream) is a `fault`, no
 * frame for `stallS` is `stalled`; both restart ffmpeg with decorrelated-jitter backoff until frames
 * flow again or `stop()` is called. Only a recording reaching its end stops for good (`ended`).
 */
export class FfmpegCamera implements FrameSource {
  readonly name: string;
  readonly recorded: boolean;
  private readonly live: boolean;
  private readonly logger: Logger;
  private readonly spawn: SpawnFn;
  private readonly now: () => number;
  private readonly killGraceMs: number;
  private readonly backoff: Backoff;
  private readonly statusListeners = new Listeners<CameraStatus>();
  private readonly endedPromise: Promise<void>;
  private resolveEnded!: () => void;

  private state: CameraState = 'stopped';
  private message: string;
  private lastError: string | null = null;
  private seq = 0;
  private framesIn = 0;
  private framesDropped = 0;
  private restarts = 0;
  private decodeErrorsDone = 0;
  private sinkErrors = 0;
  private lastFrameAt: number | null = null;
  /** Recorded sources: frames of the recording received so far (a restart resumes after them). */
  private recordedFrames = 0;
  private v4l2Mjpeg = true;
  private version: FfmpegVersion | null = null;

  private running = false;
  /** Counts stop() calls, so a start() that was waiting for `ffmpeg -version` does not start after one. */
  private stops = 0;
  private sink: FrameSink | null = null;
  private run: Run | null = null;
  private inFlight: Promise<void> | null = null;
  private launching: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private ticker: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: CameraSettings,
    deps: FfmpegCameraDeps,
  ) {
    this.name = cameraName(config);
    this.recorded = isRecorded(config.source);
    this.live = dropsFrames(config);
    this.logger = deps.logger;
    this.spawn = deps.spawn ?? defaultSpawn;
    this.now = deps.now ?? (() => performance.now());
    this.killGraceMs = deps.killGraceMs ?? 2000;
    this.backoff = new Backoff({ minMs: config.restartMinMs, maxMs: Math.max(config.restartMinMs, config.restartMaxMs), jitter: 'decorrelated' }, deps.random);
    this.message = `camera ${this.name}: not started`;
    this.endedPromise = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  async start(sink: FrameSink): Promise<void> {
    await this.stopping;
    if (this.running) throw new Error(`camera ${this.name} is already started`);
    const stops = this.stops;
    await this.probeFfmpeg();
    if (stops !== this.stops) return; // stop() was called meanwhile
    this.running = true;
    this.recordedFrames = 0;
    this.sink = sink;
    this.setState('starting', `camera ${this.name}: starting, waiting for the first frame`);
    this.startTicker();
    this.launching = this.launchSafely().finally(() => (this.launching = null));
    await this.launching;
  }

  stop(): Promise<void> {
    this.stopping ??= this.halt().finally(() => (this.stopping = null));
    return this.stopping;
  }

  status(): CameraStatus {
    return {
      state: this.state,
      message: this.message,
      framesIn: this.framesIn,
      framesDropped: this.framesDropped,
      restarts: this.restarts,
      decodeErrors: this.decodeErrorsDone + (this.run?.ffmpegTail.decodeErrors ?? 0),
      lastError: this.lastError,
      lastFrameAgeMs: this.lastFrameAt === null ? null : Math.max(0, this.now() - this.lastFrameAt),
    };
  }

  ended(): Promise<void> {
    return this.endedPromise;
  }

  onStatus(listener: (status: CameraStatus) => void): () => void {
    return this.statusListeners.add(listener);
  }

  /** `ffmpeg -version`, once: proves ffmpeg is there (the only reason start() rejects) and picks version-dependent options. */
  private async probeFfmpeg(): Promise<void> {
    if (this.version) return;
    const found = await probeFfmpeg(this.config.ffmpegPath, this.spawn);
    this.version = found.version;
    this.logger.debug({ camera: this.name, ffmpeg: found.banner }, 'ffmpeg found');
  }

  /** launch() never leaves the source half started: anything unexpected is a fault, retried like the others. */
  private async launchSafely(): Promise<void> {
    try {
      await this.launch();
    } catch (error) {
      const run = this.run;
      if (!run || run.exited) throw error;
      run.spawnError = `camera ${this.name}: cannot start ffmpeg: ${(error as Error).message}`;
      if (run.ffmpeg) void killRun(run, this.killGraceMs);
      else await this.finish(run, { code: null, signal: null });
    }
  }

  private async launch(): Promise<void> {
    const startFrame = this.recorded ? this.recordedFrames : 0;
    const plan = ffmpegPlan(this.config, { startMs: (startFrame * 1000) / this.config.fps, v4l2Mjpeg: this.v4l2Mjpeg, version: this.version ?? undefined });
    const run = newRun({
      frameBytes: plan.frameBytes,
      startFrame,
      usedMjpeg: this.config.source === 'v4l2' && this.v4l2Mjpeg,
      producerCommand: plan.producer?.command ?? null,
      now: this.now(),
    });
    this.run = run;
    this.logger.debug({ camera: this.name, ffmpeg: redactCredentials(plan.ffmpegArgs.join(' ')), producer: plan.producer && [plan.producer.command, ...plan.producer.args].join(' ') }, 'starting ffmpeg');

    // ffmpeg first, then the producer writing into ffmpeg's stdin: the producer's output never
    // passes through a pipe Node could read from (and lose) before ffmpeg holds it.
    const ffmpeg = this.spawn(this.config.ffmpegPath, plan.ffmpegArgs, { stdio: [plan.producer ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    run.ffmpeg = ffmpeg;
    const error = await started(ffmpeg);
    if (error) {
      run.spawnError = explainSpawnError(this.name, this.config.ffmpegPath, error, this.config);
      await this.finish(run, { code: null, signal: null });
      return;
    }
    ffmpeg.stdout?.on('data', (chunk: Buffer) => this.onData(run, chunk));
    ffmpeg.stderr?.on('data', (chunk: Buffer) => this.onOutput(run.ffmpegTail, chunk, 'ffmpeg'));
    ffmpeg.once('close', (code: number | null, signal: NodeJS.Signals | null) => void this.finish(run, { code, signal }));
    if (plan.producer) {
      const { command, args, videoFd } = plan.producer;
      const stdin = ffmpeg.stdin as Writable;
      const stdio: StdioOptions = videoFd === 3 ? ['ignore', 'pipe', 'pipe', stdin] : ['ignore', stdin, 'pipe'];
      // Detached: its own process group, so stopping it also stops what a shell command started.
      const producer = this.spawn(command, args, { stdio, detached: true });
      stdin.destroy(); // the producer holds the pipe now; ffmpeg sees EOF when the producer exits
      run.producer = producer;
      const producerError = await started(producer);
      if (producerError) {
        run.spawnError = explainSpawnError(this.name, command, producerError, this.config);
        void terminate(ffmpeg, this.killGraceMs);
        return;
      }
      producer.once('exit', (code, signal) => (run.producerExit = { code, signal }));
      producer.stderr?.on('data', (chunk: Buffer) => this.onOutput(run.producerTail, chunk, command));
      if (videoFd === 3) producer.stdout?.on('data', (chunk: Buffer) => this.onOutput(run.producerTail, chunk, command));
    }
    run.lastProgress = this.now();
  }

  private onOutput(tail: LogTail, chunk: Buffer, who: string): void {
    for (const line of tail.push(chunk)) this.logger.debug({ camera: this.name, line }, who);
  }

  private onData(run: Run, chunk: Buffer): void {
    if (run !== this.run || run.killReason) return;
    // Node resumes a paused stdout by itself once the process has exited: keep the order.
    if (run.paused) run.held.push(chunk);
    else this.feed(run, chunk);
  }

  private feed(run: Run, chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      const cut = run.cutter.next(chunk, offset);
      if (!cut) return;
      offset = cut.offset;
      this.frameArrived(run, cut.frame);
      if (!this.live && this.inFlight) {
        // Backpressure: ffmpeg waits (its stdout pipe fills) until the sink is done with this frame.
        if (offset < chunk.length) run.held.unshift(chunk.subarray(offset));
        run.paused = true;
        run.ffmpeg?.stdout?.pause();
        return;
      }
    }
  }

  private frameArrived(run: Run, rgb: Buffer): void {
    const now = this.now();
    run.lastProgress = now;
    this.lastFrameAt = now;
    const index = run.startFrame + run.frames;
    run.frames += 1;
    this.seq += 1;
    this.framesIn += 1;
    if (this.recorded) this.recordedFrames = index + 1;
    if (run.frames === 1) {
      this.backoff.reset();
      this.setState('ok', `camera ${this.name}: ${this.config.width}×${this.config.height} frames at up to ${this.config.fps} fps`);
    }
    if (this.inFlight) {
      this.framesDropped += 1;
      run.cutter.recycle(rgb);
      return;
    }
    const { width, height, fps } = this.config;
    this.deliver(run, { seq: this.seq, monoMs: now, ptsMs: this.recorded ? (index * 1000) / fps : null, width, height, rgb });
  }

  private deliver(run: Run, frame: Frame): void {
    let result: ReturnType<FrameSink>;
    try {
      result = this.sink?.(frame);
    } catch (error) {
      this.sinkFailed(error);
      return;
    }
    if (!result || typeof result.then !== 'function') return;
    const done: Promise<void> = Promise.resolve(result)
      .then(undefined, (error: unknown) => this.sinkFailed(error))
      .then(() => {
        if (this.inFlight === done) this.inFlight = null;
        this.sinkDone(run);
      });
    this.inFlight = done;
  }

  /** Backpressure: the sink took the frame; go on with the rest of the held chunk, then let ffmpeg write again. */
  private sinkDone(run: Run): void {
    if (!run.paused || run !== this.run || run.killReason) return;
    run.paused = false;
    run.lastProgress = this.now();
    for (let chunk = run.held.shift(); chunk; chunk = run.paused ? undefined : run.held.shift()) this.feed(run, chunk);
    if (!run.paused) run.ffmpeg?.stdout?.resume();
  }

  private sinkFailed(error: unknown): void {
    this.sinkErrors += 1;
    if (this.sinkErrors === 1 || this.sinkErrors % 100 === 0) this.logger.error({ err: error, camera: this.name, sinkErrors: this.sinkErrors }, 'frame sink threw (the frame is lost)');
  }

  /** ffmpeg is gone (or never started): decide what it meant. Called once per run. */
  private async finish(run: Run, exit: ChildExit): Promise<void> {
    if (run.exited) return;
    run.exited = true;
    if (run.producer) await terminate(run.producer, this.killGraceMs, true);
    run.ffmpegTail.flush();
    run.producerTail.flush();
    while (this.inFlight) await this.inFlight;
    if (run.cutter.pendingBytes > 0) this.logger.debug({ camera: this.name, bytes: run.cutter.pendingBytes }, 'ffmpeg stopped inside a frame; its part is dropped');
    if (this.run === run) this.run = null;
    this.decodeErrorsDone += run.ffmpegTail.decodeErrors;
    if (run.killReason === 'stop' || !this.running) return;
    if (run.killReason === 'stall') {
      this.scheduleRestart();
      return;
    }
    if (!run.spawnError && this.recorded && exit.code === 0) {
      this.running = false;
      this.stopTicker();
      this.setState('ended', `camera ${this.name}: end of the recording (${this.framesIn} frames)`);
      this.resolveEnded();
      return;
    }
    const ffmpegLines = run.ffmpegTail.lines();
    if (run.usedMjpeg && ffmpegLines.some((l) => l.includes('Cannot find a proper format'))) {
      this.v4l2Mjpeg = false;
      this.logger.info({ camera: this.name }, 'the camera offers no MJPEG at this size; letting ffmpeg pick a raw format');
      this.scheduleRestart(0);
      return;
    }
    const producer = run.producerCommand ? { command: run.producerCommand, exit: run.producerExit, lines: run.producerTail.lines() } : null;
    const error = run.spawnError ?? explainExit({ camera: this.config, name: this.name, ffmpeg: exit, ffmpegLines, producer, live: !this.recorded });
    this.lastError = error;
    this.setState('fault', error);
    this.scheduleRestart();
  }

  private scheduleRestart(delayMs?: number): void {
    if (!this.running || this.restartTimer) return;
    const delay = delayMs ?? this.backoff.next();
    this.logger.debug({ camera: this.name, delayMs: delay }, 'restarting ffmpeg after a delay');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.running) return;
      this.restarts += 1;
      this.launching = this.launchSafely().finally(() => (this.launching = null));
    }, delay);
  }

  private startTicker(): void {
    const stallMs = this.config.stallS * 1000;
    this.ticker = setInterval(() => this.watch(stallMs), Math.max(10, Math.min(1000, stallMs / 4)));
    this.ticker.unref();
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
  }

  /** The watchdog: no frame for stallS (not counting time the sink holds ffmpeg back) restarts ffmpeg. */
  private watch(stallMs: number): void {
    const run = this.run;
    if (!run?.ffmpeg || run.exited || run.killReason || run.paused || this.launching) return;
    if (this.now() - run.lastProgress < stallMs) return;
    run.killReason = 'stall';
    const error = explainStall(this.name, this.config, lastMessage(run));
    this.lastError = error;
    this.setState('stalled', error);
    void killRun(run, this.killGraceMs);
  }

  private async halt(): Promise<void> {
    this.stops += 1;
    this.running = false;
    this.stopTicker();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    await this.launching;
    const run = this.run;
    if (run) {
      run.killReason = 'stop';
      await killRun(run, this.killGraceMs);
      await this.finish(run, { code: null, signal: null });
    }
    while (this.inFlight) await this.inFlight;
    this.run = null;
    if (this.state !== 'stopped') this.setState('stopped', `camera ${this.name}: stopped`);
  }

  private setState(state: CameraState, message: string): void {
    if (state === this.state && message === this.message) return;
    const previous = this.state;
    this.state = state;
    this.message = message;
    if (state === 'fault' || state === 'stalled') this.logger.warn({ camera: this.name, state }, message);
    else if (state !== 'ok' || previous !== 'ok') this.logger.info({ camera: this.name, state }, message);
    this.statusListeners.emit(this.status(), (error) => this.logger.error({ err: error, camera: this.name }, 'camera status listener threw'));
  }
}
