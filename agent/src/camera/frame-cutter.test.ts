import { describe, expect, it } from 'vitest';
import { FrameCutter } from './frame-cutter.js';

function cutAll(cutter: FrameCutter, chunks: Buffer[]): Buffer[] {
  const frames: Buffer[] = [];
  for (const chunk of chunks) {
    let offset = 0;
    for (let cut = cutter.next(chunk, offset); cut; cut = cutter.next(chunk, offset)) {
      frames.push(Buffer.from(cut.frame));
      offset = cut.offset;
    }
  }
  return frames;
}

describe('FrameCutter', () => {
  const frameBytes = 12;
  const stream = Buffer.from(Array.from({ length: frameBytes * 5 }, (_, i) => i));
  const expected = [0, 1, 2, 3, 4].map((n) => stream.subarray(n * frameBytes, (n + 1) * frameBytes));

  it('cuts frames out of chunks of any size', () => {
    for (const size of [1, 5, 12, 13, 30, 60]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) chunks.push(stream.subarray(i, i + size));
      expect(cutAll(new FrameCutter(frameBytes), chunks)).toEqual(expected);
    }
  });

  it('gives a frame lying whole in one chunk as a view of it, and copies a split one once', () => {
    const cutter = new FrameCutter(frameBytes);
    const chunk = Buffer.from(stream.subarray(0, 18));
    const whole = cutter.next(chunk, 0);
    expect(cutter.next(chunk, whole?.offset)).toBeNull();
    expect(cutter.pendingBytes).toBe(6);
    const rest = Buffer.from(stream.subarray(18, 30));
    const split = cutter.next(rest, 0);
    expect(split?.offset).toBe(6);
    chunk.fill(0xff);
    rest.fill(0xff);
    expect(whole?.frame.every((b) => b === 0xff)).toBe(true); // a view
    expect(split?.frame).toEqual(expected[1]); // a copy
  });

  it('reuses the buffer of a dropped frame, and forgets a partial frame on reset', () => {
    const cutter = new FrameCutter(frameBytes);
    cutter.next(stream.subarray(0, 6));
    const first = cutter.next(stream.subarray(6, 12));
    cutter.recycle(first?.frame as Buffer);
    cutter.next(stream.subarray(12, 20));
    cutter.reset();
    expect(cutter.pendingBytes).toBe(0);
    const next = cutter.next(stream.subarray(24, 30));
    expect(next).toBeNull();
    const done = cutter.next(stream.subarray(30, 36));
    expect(done?.frame).toEqual(expected[2]);
    expect(done?.frame.buffer).toBe(first?.frame.buffer);
  });
});
