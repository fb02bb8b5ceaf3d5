// Sky above the horizon and a distant tree line / hills silhouette standing on the ground.
import type { PinholeCamera } from './camera.js';
import type { SceneConditions } from './conditions.js';
import { clamp01, type Frame } from './frame.js';
import { ValueNoise } from './noise.js';
import { deriveSeed, Rng } from './random.js';

export function skyColour(conditions: SceneConditions): { zenith: [number, number, number]; horizon: [number, number, number] } {
  switch (conditions.weather) {
    case 'sun':
      return { zenith: [0.32, 0.5, 0.82], horizon: [0.74, 0.82, 0.92] };
    case 'haze':
      return { zenith: [0.66, 0.7, 0.76], horizon: [0.82, 0.83, 0.84] };
    default:
      return { zenith: [0.62, 0.65, 0.7], horizon: [0.8, 0.81, 0.83] };
  }
}

/** Paints sky on pixels without ground, then the background silhouette over sky and far ground. */
export function paintSky(frame: Frame, camera: PinholeCamera, conditions: SceneConditions, seed: number): void {
  const { zenith, horizon } = skyColour(conditions);
  const clouds = new ValueNoise(deriveSeed(seed, 'clouds'), 6);
  const cloudiness = conditions.weather === 'sun' ? 0.35 : 0.6;
  const { width, height, focalPx, horizonV } = camera;
  for (let v = 0; v < height; v++) {
    const elevation = (horizonV - v) / focalPx;
    const t = clamp01(elevation / 0.6);
    for (let i = 0, idx = v * width; i < width; i++, idx++) {
      if (frame.depth[idx] !== Infinity) continue;
      const cloud = clamp01((clouds.at(i / 90, v / 35) * 0.7 + clouds.at(i / 25, v / 10) * 0.3 - 0.45) * 2.5) * cloudiness;
      const r = horizon[0] + (zenith[0] - horizon[0]) * t;
      const g = horizon[1] + (zenith[1] - horizon[1]) * t;
      const b = horizon[2] + (zenith[2] - horizon[2]) * t;
      frame.set(idx, r + (0.9 - r) * cloud, g + (0.9 - g) * cloud, b + (0.92 - b) * cloud);
    }
  }
  paintBackground(frame, camera, seed);
}

function paintBackground(frame: Frame, camera: PinholeCamera, seed: number): void {
  const rng = new Rng(deriveSeed(seed, 'background'));
  const profile = new ValueNoise(deriveSeed(seed, 'skyline'), 6);
  const leaves = new ValueNoise(deriveSeed(seed, 'treeline'), 6);
  const trees = rng.chance(0.7);
  // A tree line at the edge of the fields, or low hills farther away.
  const distanceM = trees ? rng.range(70, 250) : rng.range(300, 900);
  const heightM = trees ? rng.range(4, 18) : rng.range(15, 60);
  const roughness = trees ? rng.range(0.3, 1) : rng.range(0, 0.15);
  const hue: [number, number, number] = trees ? [0.16, 0.22, 0.12] : [0.3, 0.34, 0.3];
  const { width, height, focalPx, horizonV } = camera;
  const yaw = (camera.model.yawDeg * Math.PI) / 180;
  for (let i = 0; i < width; i++) {
    // Anchor the skyline to the direction of view so it does not slide when the camera yaws.
    const azimuth = Math.atan((i + 0.5 - camera.cx) / focalPx) + yaw;
    const h = heightM * (0.35 + 0.65 * (profile.at(azimuth * 6, 0.5) * (1 - roughness * 0.5) + (profile.fbm(azimuth, 3.5, 1 / 40, 3, 1e-4) + 0.5) * roughness * 0.5));
    const top = Math.max(0, Math.floor(horizonV - (focalPx * h) / distanceM));
    for (let v = top; v < height; v++) {
      const idx = v * width + i;
      if (frame.depth[idx]! < distanceM) break;
      const shade = trees ? 0.7 + 0.6 * leaves.at(i / 3, v / 3) : 0.9 + 0.2 * leaves.at(i / 20, v / 6);
      frame.set(idx, hue[0] * shade, hue[1] * shade, hue[2] * shade);
      frame.depth[idx] = distanceM;
    }
  }
}
