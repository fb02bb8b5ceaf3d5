// The renderer and the agent agree on geometry: a defect drawn for a frame is where the agent's own
// camera model puts it, so a perfect detector would report the truth's coordinates.
import { describe, expect, it } from 'vitest';
import { groundPointAt, pinhole } from '../../agent/src/fusion/camera-geometry.js';
import { distanceM } from '../../agent/src/fusion/geo.js';
import { groundPointToLatLon, projectBox } from '../../agent/src/fusion/ground.js';
import { encodeJpeg } from '../../models/scene/encode.js';
import { renderScene } from '../../models/scene/render.js';
import { frameSceneOptions, truthBoxes } from './render.js';
import { alongRoadExtent, simulateDrive } from './simulate.js';

describe('a rendered drive frame', () => {
  // 640×360: at 320×180 a pothole 10 m ahead is under 3 px tall and the renderer pads its box to 3 px.
  const plan = simulateDrive({ seed: 11, lengthM: 150, width: 640, height: 360, classes: ['D40'], defects: 2, mount: { forwardM: 1.5 } });

  it('shows a pothole 10 m ahead where the agent camera model puts it', () => {
    const defect = plan.defects[0]!;
    // The frame where the lens is ~10 m short of the pothole's centre.
    const frame = plan.frames.reduce((best, f) => (Math.abs(defect.distanceM - f.roadOffsetM - 10) < Math.abs(defect.distanceM - best.roadOffsetM - 10) ? f : best));
    const lensToCentre = defect.distanceM - frame.roadOffsetM;
    expect(Math.abs(lensToCentre - 10)).toBeLessThan(0.6);

    const scene = renderScene(frameSceneOptions(plan, frame));
    const boxes = truthBoxes(scene.labels);
    const label = boxes.find((b) => b.defectId === defect.id);
    expect(label, 'the renderer labels the pothole').toBeDefined();
    const [x1, y1, x2, y2] = label!.box;

    // The box bottom is the pothole's near edge: back through the agent's camera model to the road.
    const cam = pinhole(plan.mount, { w: plan.width, h: plan.height });
    const near = groundPointAt(cam, (x1 + x2) / 2, y2)!;
    // Against the truth's near edge (the renderer's outline: ±1 cm rounding) …
    expect(Math.abs(near.zM - (defect.nearM - frame.roadOffsetM))).toBeLessThan(0.05);
    // … and against a plain ellipse of the pothole's size (the outline wobbles ~±15% and has a rim).
    const a = (defect.angleDeg * Math.PI) / 180;
    const ellipseHalf = Math.hypot((defect.lengthM / 2) * Math.cos(a), (defect.widthM / 2) * Math.sin(a));
    expect(Math.abs(near.zM - (lensToCentre - ellipseHalf))).toBeLessThan(0.5);
    // Lateral: the box centre is over the pothole.
    expect(Math.abs(near.xM - defect.lateralM)).toBeLessThan(defect.lengthM / 2 + 0.1);

    // The box's footprint centre, placed from the antenna position and heading, is the truth's lat/lon.
    const onRoad = projectBox(cam, [x1, y1, x2, y2], { anchor: 'footprint-centre', edgeSigmaPx: 1, clipMarginPx: 2 })!;
    const at = groundPointToLatLon({ lat: frame.lat, lon: frame.lon, headingDeg: plan.headingDeg }, onRoad.point, plan.mount.forwardM);
    expect(distanceM(at, defect)).toBeLessThan(0.5);
  });

  it('labels only what the truth says is drawn there, and nothing at the start of the drive', () => {
    const first = renderScene(frameSceneOptions(plan, plan.frames[0]!));
    expect(first.labels).toEqual([]);
    expect(first.camera).toEqual(plan.camera);
    expect(first.road).toEqual(plan.road);
    expect(first.conditions).toEqual(plan.conditions);
    const extent = alongRoadExtent({ cls: 'D40', xM: 0, zM: 0, lengthM: plan.defects[0]!.lengthM, widthM: plan.defects[0]!.widthM, angleDeg: plan.defects[0]!.angleDeg, seed: plan.defects[0]!.shapeSeed });
    expect(plan.defects[0]!.distanceM + extent.behindM).toBeCloseTo(plan.defects[0]!.nearM, 2);
  });

  it('renders the same bytes for the same seed', async () => {
    const again = simulateDrive({ seed: 11, lengthM: 150, width: 640, height: 360, classes: ['D40'], defects: 2, mount: { forwardM: 1.5 } });
    const [a, b] = await Promise.all([plan, again].map((p) => encodeJpeg(renderScene(frameSceneOptions(p, p.frames[0]!)))));
    expect(a!.equals(b!)).toBe(true);
  });
});
