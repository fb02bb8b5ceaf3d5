// Lighting, weather and camera-quality conditions of a scene. Every field is drawn from the seed and
// an explicit value overrides it; all fields are always drawn so an override never shifts the rest.
import { definedOnly } from './camera.js';
import type { Rng } from './random.js';

export const WEATHERS = ['sun', 'overcast', 'wet', 'haze'] as const;
export type Weather = (typeof WEATHERS)[number];

export interface SceneConditions {
  weather: Weather;
  /** Sun height above the horizon; low sun gives long shadows. */
  sunElevationDeg: number;
  /** Sun direction relative to the driving direction (0 = straight ahead, 90 = to the right). */
  sunAzimuthDeg: number;
  /** How dark full shadow is: 0 = no visible shadow, 0.7 = deep shade. */
  shadowStrength: number;
  /** Shadow casters (trees, poles) per 10 m of roadside; 0 = none. */
  shadowDensity: number;
  /** Unlabelled look-alikes (oil stains, repairs, manholes, tar seams) per 10 m of road; 0 = none. */
  distractorDensity: number;
  /** Overall exposure gain; 1 = nominal. */
  exposure: number;
  /** Contrast around mid grey; 1 = unchanged. */
  contrast: number;
  /** White-balance gains for r, g, b. */
  whiteBalance: [number, number, number];
  /** 0 = dry, 1 = soaked (darker asphalt, sky reflections). */
  wetness: number;
  /** Meteorological visibility in metres (haze). */
  visibilityM: number;
  /** Box motion blur length in pixels (0 = none). */
  motionBlurPx: number;
  motionBlurAxis: 'horizontal' | 'vertical';
  /** Sensor noise standard deviation (0–1 scale). */
  noiseSigma: number;
  /** Corner darkening, 0 = none. */
  vignette: number;
  /** JPEG quality used by encodeJpeg when none is given. */
  jpegQuality: number;
}

export function randomConditions(rng: Rng, overrides: Partial<SceneConditions> = {}): SceneConditions {
  const weather = overrides.weather ?? rng.weighted<Weather>([['sun', 0.45], ['overcast', 0.3], ['wet', 0.15], ['haze', 0.1]]);
  const sunny = weather === 'sun';
  const wet = weather === 'wet';
  const drawn: SceneConditions = {
    weather,
    sunElevationDeg: rng.range(15, 65),
    sunAzimuthDeg: rng.range(-180, 180),
    shadowStrength: sunny ? rng.range(0.35, 0.65) : rng.range(0, 0.15),
    shadowDensity: rng.chance(sunny ? 0.7 : 0.3) ? rng.range(0.1, 0.6) : 0,
    distractorDensity: rng.chance(0.75) ? rng.range(0.1, 0.6) : 0,
    exposure: sunny ? rng.range(0.8, 1.15) : rng.range(0.8, 1.15),
    contrast: sunny ? rng.range(0.95, 1.2) : rng.range(0.8, 1.05),
    whiteBalance: [rng.range(0.92, 1.08), 1, rng.range(0.9, 1.1)],
    wetness: wet ? rng.range(0.4, 1) : rng.chance(0.1) ? rng.range(0, 0.3) : 0,
    visibilityM: weather === 'haze' ? rng.range(50, 160) : rng.range(250, 1500),
    motionBlurPx: rng.chance(0.4) ? rng.int(2, 5) : 0,
    motionBlurAxis: rng.chance(0.6) ? 'vertical' : 'horizontal',
    noiseSigma: rng.range(0.003, 0.025),
    vignette: rng.range(0, 0.35),
    jpegQuality: rng.int(55, 95),
  };
  return { ...drawn, ...definedOnly(overrides) };
}
