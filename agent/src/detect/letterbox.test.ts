import { describe, expect, it } from 'vitest';
import type { Box } from './detector.js';
import { letterbox, toFrameBox, toInputBox } from './letterbox.js';

describe('letterbox', () => {
  it('fits a 1280×720 frame into 320×320: scale 1/4, 70 px grey above and below', () => {
    const lb = letterbox({ w: 1280, h: 720 }, { width: 320, height: 320 });
    expect(lb.scale).toBe(0.25);
    expect(lb.resized).toEqual({ w: 320, h: 180 });
    expect(lb.pad).toEqual({ left: 0, top: 70, right: 0, bottom: 70 });
  });

  it('pads a portrait frame left and right, odd pixel to the right', () => {
    const lb = letterbox({ w: 480, h: 640 }, { width: 641, height: 640 });
    expect(lb.resized).toEqual({ w: 480, h: 640 });
    expect(lb.pad).toEqual({ left: 80, top: 0, right: 81, bottom: 0 });
  });

  it('scales small frames up', () => {
    const lb = letterbox({ w: 160, h: 90 }, { width: 320, height: 320 });
    expect(lb.scale).toBe(2);
    expect(lb.pad.top).toBe(70);
  });

  it('maps a model box back to frame pixels (hand-computed)', () => {
    const lb = letterbox({ w: 1280, h: 720 }, { width: 320, height: 320 });
    // cx 160, cy 160, w 40, h 20 in the input → x 140..180, y 150..170 → frame (x/0.25, (y-70)/0.25)
    expect(toFrameBox([140, 150, 180, 170], lb)).toEqual([560, 320, 720, 400]);
  });

  it('clips boxes that reach into the padding or past the edge', () => {
    const lb = letterbox({ w: 1280, h: 720 }, { width: 320, height: 320 });
    expect(toFrameBox([-10, 80, 50, 120], lb)).toEqual([0, 40, 200, 200]);
    expect(toFrameBox([300, 10, 330, 300], lb)).toEqual([1200, 0, 1280, 720]);
  });

  it('round-trips frame → input → frame for many frame sizes', () => {
    const frames = [
      [1280, 720],
      [1920, 1080],
      [640, 480],
      [333, 777],
      [4056, 3040],
      [100, 100],
    ] as const;
    for (const [w, h] of frames) {
      for (const input of [{ width: 320, height: 320 }, { width: 640, height: 384 }]) {
        const lb = letterbox({ w, h }, input);
        const box: Box = [w * 0.1, h * 0.2, w * 0.7, h * 0.9];
        const back = toFrameBox(toInputBox(box, lb), lb);
        back.forEach((v, i) => expect(v).toBeCloseTo(box[i]!, 6));
        // and the frame's corners land on the edges of the resized area
        expect(toInputBox([0, 0, w, h], lb)).toEqual([lb.pad.left, lb.pad.top, lb.pad.left + lb.resized.w, lb.pad.top + lb.resized.h]);
      }
    }
  });
});
