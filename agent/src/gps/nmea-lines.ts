/**
 * Splits a byte stream from a receiver into lines (pure, stateful; no I/O).
 *
 * Any run of CR and LF ends a line (receivers send CRLF, LF, CR, and even CR CR LF). Bytes are read
 * as latin1 so any byte value survives one-to-one and a NUL or 8-bit garbage byte can never throw.
 * A line longer than `maxLine` is dropped whole (counted in `overlong`): it is two sentences run
 * together or a stream at the wrong baud rate, and keeping it would let one bad line grow memory
 * without bound.
 */
export const DEFAULT_MAX_LINE = 200;

export class NmeaLineSplitter {
  private partial = '';
  private skipping = false;
  private overlongCount = 0;

  /**
   * @param commentPrefix lines starting with this (gpsd logs' `#` headers) are the caller's to skip;
   *   they are exempt from the overlong count, and a long one is dropped without being counted.
   */
  constructor(
    private readonly maxLine = DEFAULT_MAX_LINE,
    private readonly commentPrefix?: string,
  ) {}

  /** Lines dropped for being longer than the cap. */
  get overlong(): number {
    return this.overlongCount;
  }

  /** Feeds a chunk; returns the complete lines in it (without line endings, never empty). */
  push(chunk: Buffer | string): string[] {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    const lines: string[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 13 && c !== 10) continue;
      this.take(text.slice(start, i), true, lines);
      start = i + 1;
    }
    this.take(text.slice(start), false, lines);
    return lines;
  }

  /** End of stream: returns the last unterminated line, if any. */
  end(): string[] {
    const lines: string[] = [];
    if (!this.skipping && this.partial.length > 0) lines.push(this.partial);
    this.partial = '';
    this.skipping = false;
    return lines;
  }

  private take(piece: string, terminated: boolean, lines: string[]): void {
    if (this.skipping) {
      if (terminated) this.skipping = false;
      return;
    }
    const line = this.partial + piece;
    if (line.length > this.maxLine) {
      if (this.commentPrefix === undefined || !line.startsWith(this.commentPrefix)) this.overlongCount += 1;
      this.partial = '';
      this.skipping = !terminated;
      return;
    }
    if (terminated) {
      this.partial = '';
      if (line.length > 0) lines.push(line);
    } else {
      this.partial = line;
    }
  }
}
