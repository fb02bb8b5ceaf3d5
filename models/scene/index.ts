// Public API of the road-scene renderer.
export { DEFAULT_CAMERA, PinholeCamera, randomCamera, type CameraModel } from './camera.js';
export { randomConditions, WEATHERS, type SceneConditions, type Weather } from './conditions.js';
export { DAMAGE_CLASSES, DAMAGE_NAMES, randomDamage, type DamageClass, type DamagePlacement } from './damage.js';
export { encodeDebugPng, encodeJpeg, encodePng } from './encode.js';
export { DEFAULT_LABEL_RULES, type LabelledBox, type LabelRules } from './labels.js';
export { renderScene, type RenderedScene, type SceneOptions } from './render.js';
export { randomRoadLayout, type RoadLayout } from './road.js';
export { GENERATOR_VERSION, sampleId, SEED_RANGES, splitOfSeed, yoloLabelText } from './dataset.js';
