export interface Cut {
  frame: Buffer;
  /** Where the rest of the chunk starts. */
  offset: number;
}

/**
 * Cuts ffmpeg's stdout (raw frames back to back, in chunks of any size) into frames of exactly
 * `frameBytes`. A frame lying whole inside one chunk is a view of it (no copy); a frame spread over
 * chunks is copied once into its own buffer. The buffer of a dropped frame is reused.
 */
export class FrameCutter {
  private partial: Buffer | null = null;
  private filled = 0;
  private spare: Buffer | null = null;
  private readonly own = new WeakSet<Buffer>();

  constructor(readonly frameBytes: number) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0) throw new RangeError(`frame size must be a positive whole number of bytes (got ${frameBytes})`);
  }

  /** The next whole frame in `chunk` from `offset`, or null when the chunk ran out inside a frame (kept for the next chunk). */
  next(chunk: Buffer, offset = 0): Cut | null {
    if (offset >= chunk.length) return null;
    if (this.filled === 0 && chunk.length - offset >= this.frameBytes) {
      return { frame: chunk.subarray(offset, offset + this.frameBytes), offset: offset + this.frameBytes };
    }
    if (!this.partial) {
      this.partial = this.spare ?? Buffer.allocUnsafe(this.frameBytes);
      this.spare = null;
      this.own.add(this.partial);
    }
    const n = Math.min(this.frameBytes - this.filled, chunk.length - offset);
    chunk.copy(this.partial, this.filled, offset, offset + n);
    this.filled += n;
    if (this.filled < this.frameBytes) return null;
    const frame = this.partial;
    this.partial = null;
    this.filled = 0;
    return { frame, offset: offset + n };
  }

  /** Hands back a frame nobody kept (dropped): its memory is reused when it is a buffer of our own. */
  recycle(frame: Buffer): void {
    if (this.own.has(frame)) this.spare = frame;
  }

  /** Bytes of an incomplete frame waiting for the rest. */
  get pendingBytes(): number {
    return this.filled;
  }

  /** Forgets an incomplete frame (ffmpeg restarted: its rest will never come). */
  reset(): void {
    if (this.partial) this.spare = this.partial;
    this.partial = null;
    this.filled = 0;
  }
}
