import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

/**
 * Follows MQTT frame boundaries (fixed header byte + "remaining length" varint) in a byte stream
 * without buffering anything, and reports the first frame declared larger than the limit — as
 * soon as its header arrives, before its body is received.
 */
export class FrameScanner {
  #state: 'header' | 'length' | 'body' = 'header';
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;
  #remaining = 0;

  constructor(readonly maxFrameBytes: number) {}

  /** Returns the declared size of an oversized frame, -1 for a malformed length, or null when all is well. */
  scan(chunk: Uint8Array): number | null {
    let i = 0;
    while (i < chunk.length) {
      if (this.#state === 'header') {
        i++;
        this.#state = 'length';
        this.#length = 0;
        this.#multiplier = 1;
        this.#lengthBytes = 0;
      } else if (this.#state === 'length') {
        const byte = chunk[i++]!;
        this.#length += (byte & 0x7f) * this.#multiplier;
        this.#multiplier *= 128;
        this.#lengthBytes++;
        if ((byte & 0x80) === 0) {
          if (this.#length > this.maxFrameBytes) return this.#length;
          this.#remaining = this.#length;
          this.#state = this.#remaining > 0 ? 'body' : 'header';
        } else if (this.#lengthBytes >= 4) {
          return -1;
        }
      } else {
        const skip = Math.min(this.#remaining, chunk.length - i);
        i += skip;
        this.#remaining -= skip;
        if (this.#remaining === 0) this.#state = 'header';
      }
    }
    return null;
  }
}

export interface FrameGuardOptions {
  maxFrameBytes: number;
  /** Called once when the connection is cut because of an oversized or malformed frame. */
  onViolation: (declaredBytes: number) => void;
}

/**
 * Wraps a TCP/TLS socket for aedes: bytes pass through unchanged, but a frame whose declared size
 * exceeds the limit closes the connection at its header, so the hub never buffers it. (Neither
 * aedes nor mqtt-packet has a maximum packet size; aedes recommends a transport-level frame limit.)
 */
export class FrameGuardedConnection extends Duplex {
  readonly #socket: Socket;
  readonly #scanner: FrameScanner;
  #pendingWrite: ((error?: Error | null) => void) | null = null;

  constructor(socket: Socket, { maxFrameBytes, onViolation }: FrameGuardOptions) {
    super({ allowHalfOpen: false });
    this.#socket = socket;
    this.#scanner = new FrameScanner(maxFrameBytes);
    socket.on('data', (chunk: Buffer) => {
      if (this.destroyed) return;
      const violation = this.#scanner.scan(chunk);
      if (violation !== null) {
        onViolation(violation);
        this.destroy();
        return;
      }
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => this.destroy());
    socket.on('drain', () => {
      const callback = this.#pendingWrite;
      this.#pendingWrite = null;
      callback?.();
    });
  }

  get socket(): Socket {
    return this.#socket;
  }

  override _read(): void {
    this.#socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#send(chunk, callback);
  }

  /** mqtt-packet writes a packet as several small chunks; send them to the socket as one. */
  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.#send(Buffer.concat(chunks.map((c) => c.chunk)), callback);
  }

  #send(chunk: Buffer, callback: (error?: Error | null) => void): void {
    if (this.#socket.write(chunk)) callback();
    else this.#pendingWrite = callback;
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#socket.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#pendingWrite = null;
    this.#socket.destroy();
    callback(error);
  }
}
