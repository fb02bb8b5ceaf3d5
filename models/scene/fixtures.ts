// Test fixtures for the detector: generated images with known damage.
import { DEFAULT_CAMERA } from './camera.js';
import type { DamagePlacement } from './damage.js';
import { encodeJpeg } from './encode.js';
import type { LabelledBox } from './labels.js';
import { renderScene } from './render.js';

export const POTHOLE_FIXTURE_PLACEMENT: Readonly<DamagePlacement> = Object.freeze({
  cls: 'D40',
  xM: 0.25,
  zM: 8,
  lengthM: 0.95,
  widthM: 0.8,
  angleDeg: 15,
  seed: 4242,
});

/** A 1280×720 daylight scene, no blur, with one clear pothole 8 m ahead in the camera's lane. */
export async function potholeFixture(): Promise<{ jpeg: Buffer; labels: LabelledBox[] }> {
  const scene = renderScene({
    width: 1280,
    height: 720,
    seed: 20_240_607,
    damage: [{ ...POTHOLE_FIXTURE_PLACEMENT }],
    camera: { ...DEFAULT_CAMERA },
    road: { markingWear: 0.1, asphaltTone: 0.36, centreLine: 'dashed', lanesLeft: 1, lanesRight: 0, curvature: 0 },
    conditions: {
      weather: 'sun',
      sunElevationDeg: 45,
      shadowStrength: 0.45,
      shadowDensity: 0,
      distractorDensity: 0,
      exposure: 1,
      contrast: 1.05,
      whiteBalance: [1, 1, 1],
      wetness: 0,
      visibilityM: 1200,
      motionBlurPx: 0,
      noiseSigma: 0.006,
      vignette: 0.1,
      jpegQuality: 90,
    },
  });
  return { jpeg: await encodeJpeg(scene), labels: scene.labels };
}
