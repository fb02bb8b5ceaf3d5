import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CAMERA, PinholeCamera } from './camera.js';
import { DAMAGE_CLASSES, randomDamage, type DamagePlacement } from './damage.js';
import { yoloLabelText } from './dataset.js';
import { encodeJpeg } from './encode.js';
import { potholeFixture } from './fixtures.js';
import { renderScene, type SceneOptions } from './render.js';

const calm: SceneOptions['conditions'] = { weather: 'overcast', motionBlurPx: 0, shadowDensity: 0, distractorDensity: 0, noiseSigma: 0.004 };

function pothole(zM: number): DamagePlacement {
  return { cls: 'D40', xM: 0, zM, lengthM: 0.8, widthM: 0.7, angleDeg: 0, seed: 7 };
}

describe('renderScene', () => {
  it('is reproducible: the same seed gives byte-identical pixels and labels', () => {
    const a = renderScene({ width: 320, height: 180, seed: 42 });
    const b = renderScene({ width: 320, height: 180, seed: 42 });
    expect(a.rgb.length).toBe(320 * 180 * 3);
    expect(a.rgb.equals(b.rgb)).toBe(true);
    expect(a.labels).toEqual(b.labels);
  });

  it('gives different images for different seeds', () => {
    const a = renderScene({ width: 320, height: 180, seed: 1 });
    const b = renderScene({ width: 320, height: 180, seed: 2 });
    expect(a.rgb.equals(b.rgb)).toBe(false);
  });

  it('labels a pothole 8 m ahead in the lane centre low in the middle of the image, smaller as it recedes', () => {
    const render = (zM: number) =>
      renderScene({ width: 640, height: 360, seed: 5, damage: [pothole(zM)], camera: { ...DEFAULT_CAMERA }, conditions: calm });
    const boxes = [8, 12, 16].map((z) => {
      const { labels } = render(z);
      expect(labels).toHaveLength(1);
      expect(labels[0]!.cls).toBe('D40');
      expect(labels[0]!.classIndex).toBe(3);
      return labels[0]!.box;
    });
    const [x1, y1, x2, y2] = boxes[0]!;
    const cx = (x1 + x2) / 2;
    expect(cx).toBeGreaterThan(640 * 0.4);
    expect(cx).toBeLessThan(640 * 0.6);
    expect((y1 + y2) / 2).toBeGreaterThan(360 / 2);
    const widths = boxes.map(([a, , c]) => c - a);
    const heights = boxes.map(([, b, , d]) => d - b);
    expect(widths[0]).toBeGreaterThan(widths[1]!);
    expect(widths[1]).toBeGreaterThan(widths[2]!);
    expect(heights[0]).toBeGreaterThan(heights[2]!);
    // Farther objects sit higher in the image, toward the horizon.
    expect(boxes[1]![3]).toBeLessThan(boxes[0]![3]);
  });

  it('matches the box to the pinhole projection of the pothole centre', () => {
    const { labels, camera } = renderScene({ width: 640, height: 360, seed: 5, damage: [pothole(8)], camera: { ...DEFAULT_CAMERA }, conditions: calm });
    const centre = new PinholeCamera(camera, 640, 360).project(0, 0, 8)!;
    const [x1, y1, x2, y2] = labels[0]!.box;
    expect(centre.u).toBeGreaterThan(x1);
    expect(centre.u).toBeLessThan(x2);
    expect(centre.v).toBeGreaterThan(y1);
    expect(centre.v).toBeLessThan(y2);
  });

  it('drops damage that is beyond sight or behind the camera', () => {
    const far = renderScene({ width: 320, height: 180, seed: 5, damage: [pothole(60)], conditions: calm });
    const behind = renderScene({ width: 320, height: 180, seed: 5, damage: [pothole(-3)], conditions: calm });
    expect(far.labels).toEqual([]);
    expect(behind.labels).toEqual([]);
  });

  it('keeps every label inside the image with a sane size', () => {
    let count = 0;
    for (let seed = 1; seed <= 24; seed++) {
      const scene = renderScene({ width: 320, height: 180, seed });
      for (const { box, cls, classIndex } of scene.labels) {
        count++;
        const [x1, y1, x2, y2] = box;
        expect(x1).toBeGreaterThanOrEqual(0);
        expect(y1).toBeGreaterThanOrEqual(0);
        expect(x2).toBeLessThanOrEqual(320);
        expect(y2).toBeLessThanOrEqual(180);
        expect(x2).toBeGreaterThan(x1);
        expect(y2).toBeGreaterThan(y1);
        expect(Math.max(x2 - x1, y2 - y1)).toBeGreaterThanOrEqual(8);
        expect(DAMAGE_CLASSES[classIndex]).toBe(cls);
      }
    }
    expect(count).toBeGreaterThan(10);
  });

  it('rejects a nonsensical size', () => {
    expect(() => renderScene({ width: 0, height: 100, seed: 1 })).toThrow(/width/);
    expect(() => renderScene({ width: 100.5, height: 100, seed: 1 })).toThrow(/width/);
  });

  it('keeps explicit conditions and camera fields and randomises the rest', () => {
    const scene = renderScene({ width: 64, height: 36, seed: 9, conditions: { weather: 'wet', jpegQuality: 77 }, camera: { heightM: 1.5 } });
    expect(scene.conditions.weather).toBe('wet');
    expect(scene.conditions.jpegQuality).toBe(77);
    expect(scene.camera.heightM).toBe(1.5);
    expect(scene.camera.pitchDeg).toBeGreaterThan(0);
  });
});

describe('randomDamage', () => {
  it('is reproducible and gives 0–4 placements', () => {
    expect(randomDamage(123)).toEqual(randomDamage(123));
    expect(randomDamage(123, 3)).toHaveLength(3);
    for (let seed = 0; seed < 200; seed++) {
      const n = randomDamage(seed).length;
      expect(n).toBeGreaterThanOrEqual(0);
      expect(n).toBeLessThanOrEqual(4);
    }
  });

  it('balances the classes and leaves about a tenth of scenes empty', () => {
    const perClass = new Map<string, number>();
    let empty = 0;
    for (let seed = 0; seed < 3000; seed++) {
      const placements = randomDamage(seed);
      if (placements.length === 0) empty++;
      for (const p of placements) perClass.set(p.cls, (perClass.get(p.cls) ?? 0) + 1);
    }
    const counts = DAMAGE_CLASSES.map((c) => perClass.get(c) ?? 0);
    expect(Math.min(...counts) / Math.max(...counts)).toBeGreaterThan(0.85);
    expect(empty / 3000).toBeGreaterThan(0.06);
    expect(empty / 3000).toBeLessThan(0.14);
  });

  it('places potholes 2–25 m ahead', () => {
    for (let seed = 0; seed < 300; seed++) {
      for (const p of randomDamage(seed).filter((d) => d.cls === 'D40')) {
        expect(p.zM).toBeGreaterThanOrEqual(2);
        expect(p.zM).toBeLessThanOrEqual(25);
      }
    }
  });
});

describe('encoding', () => {
  it('encodes a JPEG that decodes to the scene size', async () => {
    const scene = renderScene({ width: 320, height: 180, seed: 3 });
    const jpeg = await encodeJpeg(scene, 80);
    expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const meta = await sharp(jpeg).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([320, 180, 3]);
  });

  it('writes YOLO lines with normalised centre and size', () => {
    const text = yoloLabelText({
      width: 200,
      height: 100,
      labels: [{ cls: 'D40', classIndex: 3, box: [50, 25, 150, 75], placement: pothole(8) }],
    });
    expect(text).toBe('3 0.500000 0.500000 0.500000 0.500000\n');
  });
});

describe('potholeFixture', () => {
  it('is a 1280×720 JPEG with one pothole label in the lower middle', async () => {
    const { jpeg, labels } = await potholeFixture();
    const meta = await sharp(jpeg).metadata();
    expect([meta.width, meta.height]).toEqual([1280, 720]);
    expect(labels).toHaveLength(1);
    const [x1, y1, x2, y2] = labels[0]!.box;
    expect(labels[0]!.cls).toBe('D40');
    expect(x2 - x1).toBeGreaterThan(40);
    expect((x1 + x2) / 2).toBeGreaterThan(1280 * 0.35);
    expect((x1 + x2) / 2).toBeLessThan(1280 * 0.65);
    expect((y1 + y2) / 2).toBeGreaterThan(720 / 2);
  });
});
