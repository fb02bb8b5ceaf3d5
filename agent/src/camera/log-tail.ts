import { redactCredentials } from './ffmpeg-args.js';

/** Decoder contexts as ffmpeg names them in its messages (`[mjpeg @ 0x55d…] error count: 64`). */
const DECODER_CONTEXT = /^\[(?:mjpeg|mjpegb|h264|hevc|mpeg4|mpeg[12]video|h263p?|vp[89]|av1|libdav1d|jpeg2000|jpegls|png|msmpeg4v\d|wmv\d|vc1|theora) @ 0x[0-9a-f]+\]/i;
const DECODE_COMPLAINT = /Error while decoding stream|corrupt (?:decoded )?frame|concealing \d+/i;
const REPEATED = /^\s*Last message repeated (\d+) times?/;
const MAX_LINE = 1000;

/**
 * The last lines a child printed on stderr (credentials in URLs masked), and a count of decoder
 * complaints: corrupt frames ffmpeg concealed or skipped, which do not stop it.
 */
export class LogTail {
  decodeErrors = 0;
  private readonly kept: string[] = [];
  private partial = '';
  private lastWasDecode = false;

  constructor(private readonly max = 20) {}

  /** Adds output; returns the lines it completed. */
  push(chunk: Buffer | string): string[] {
    const text = this.partial + chunk.toString();
    const parts = text.split(/\r?\n|\r/);
    this.partial = (parts.pop() ?? '').slice(-MAX_LINE);
    const lines = parts.filter((l) => l.trim() !== '').map((l) => redactCredentials(l.slice(0, MAX_LINE)));
    for (const line of lines) this.add(line);
    return lines;
  }

  /** Takes a line without a newline at the end of the output as complete. */
  flush(): void {
    if (this.partial.trim() !== '') this.add(redactCredentials(this.partial));
    this.partial = '';
  }

  lines(): readonly string[] {
    return this.kept;
  }

  private add(line: string): void {
    const repeated = REPEATED.exec(line);
    if (repeated) {
      if (this.lastWasDecode) this.decodeErrors += Number(repeated[1]);
      return;
    }
    this.lastWasDecode = DECODER_CONTEXT.test(line) || DECODE_COMPLAINT.test(line);
    if (this.lastWasDecode) this.decodeErrors += 1;
    this.kept.push(line);
    if (this.kept.length > this.max) this.kept.shift();
  }
}

/** Whether a line is a decoder complaint (corrupt data), as opposed to a reason ffmpeg stopped. */
export function isDecodeComplaint(line: string): boolean {
  return DECODER_CONTEXT.test(line) || DECODE_COMPLAINT.test(line);
}
