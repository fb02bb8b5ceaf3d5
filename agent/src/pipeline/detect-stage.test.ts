import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../camera/frame-source.js';
import { DetectError } from '../detect/errors.js';
import type { DetectResult, Detector } from '../detect/detector.js';
import { DetectStage, type DetectedFrame } from './detect-stage.js';

const silent = pino({ level: 'silent' });

function frame(seq: number): Frame {
  return { seq, monoMs: seq * 200, ptsMs: seq * 200, width: 4, height: 2, rgb: Buffer.alloc(24) };
}

/** A detector whose calls finish when the test says so, in any order (the real one cannot be made to reorder). */
function scriptedDetector() {
  const calls: { seq: number; resolve: (r: DetectResult) => void; reject: (e: Error) => void }[] = [];
  const detector = {
    detect: (image: { data: Buffer }) =>
      new Promise<DetectResult>((resolve, reject) => calls.push({ seq: image.data.readUInt8(0), resolve, reject })),
  } as unknown as Detector;
  const result = (n: number): DetectResult => ({ detections: [{ class: 'D40', classIndex: 3, confidence: n / 10, box: [0, 0, 1, 1] }], frame: { w: 4, h: 2 }, timings: { preprocessMs: 0, inferenceMs: 0, postprocessMs: 0 } });
  return { detector, calls, result };
}

function tagged(seq: number): Frame {
  const f = frame(seq);
  f.rgb.writeUInt8(seq, 0);
  return f;
}

describe('DetectStage', () => {
  it('hands results on in frame order although detection finishes out of order', async () => {
    const { detector, calls, result } = scriptedDetector();
    const seen: number[] = [];
    const stage = new DetectStage({ detector, logger: silent, depth: 2, onResult: (d: DetectedFrame) => seen.push(d.frame.seq) });
    const first = stage.submit(tagged(1));
    const second = stage.submit(tagged(2));
    let secondSettled = false;
    void second.then(() => (secondSettled = true));
    await first; // a slot was free
    expect(calls.map((c) => c.seq)).toEqual([1, 2]);
    calls[1]!.resolve(result(2));
    await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual([]); // 2 waits for 1
    expect(secondSettled).toBe(false); // both slots still taken
    calls[0]!.resolve(result(1));
    await stage.drain();
    expect(seen).toEqual([1, 2]);
    expect(secondSettled).toBe(true);
    expect(stage.stats()).toMatchObject({ submitted: 2, detected: 2, failed: 0, inFlight: 0 });
  });

  it('skips a frame the detector rejects, counts it and keeps going', async () => {
    const { detector, calls, result } = scriptedDetector();
    const seen: number[] = [];
    const stage = new DetectStage({ detector, logger: silent, depth: 1, onResult: (d) => seen.push(d.frame.seq) });
    const a = stage.submit(tagged(1));
    calls[0]!.reject(new DetectError('truncated image (premature end of JPEG)', 'check the camera stream'));
    await a;
    const b = stage.submit(tagged(2));
    calls[1]!.resolve(result(2));
    await b;
    await stage.drain();
    expect(seen).toEqual([2]);
    expect(stage.stats().failed).toBe(1);
    expect(stage.stats().lastError).toMatch(/truncated image/);
  });

  it('survives a result handler that throws', async () => {
    const { detector, calls, result } = scriptedDetector();
    let handled = 0;
    const stage = new DetectStage({
      detector,
      logger: silent,
      onResult: () => {
        handled++;
        if (handled === 1) throw new Error('boom');
      },
    });
    void stage.submit(tagged(1));
    void stage.submit(tagged(2));
    calls[0]!.resolve(result(1));
    calls[1]!.resolve(result(2));
    await stage.drain();
    expect(handled).toBe(2);
  });
});
