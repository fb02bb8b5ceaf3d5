import ort from 'onnxruntime-node';
const F = '/work/main/agent/src/detect/testing/fixtures/';
const s = await ort.InferenceSession.create(F + 'yolov8-fixed.onnx', { intraOpNumThreads: 2 });
console.log(s.inputNames, s.outputNames, JSON.stringify(s.inputMetadata), JSON.stringify(s.outputMetadata));
const x = new Float32Array(3 * 320 * 320).fill(0.5);
let r = await s.run({ images: new ort.Tensor('float32', x, [1, 3, 320, 320]) });
console.log(r.output0.dims, r.output0.data.slice(0, 8));
x[5] = 1.0;
try { await s.run({ images: new ort.Tensor('float32', x, [1, 3, 320, 320]) }); } catch (e) { console.log('run fail:', e.message); }
for (const p of ['cuda', 'tensorrt']) {
  try { const c = await ort.InferenceSession.create(F + 'yolov8-fixed.onnx', { executionProviders: [p] }); console.log(p, 'ok?!'); } catch (e) { console.log(p, 'fail:', e.message); }
}
try { await ort.InferenceSession.create(F + 'corrupt.onnx'); } catch (e) { console.log('corrupt:', e.message); }
try { await ort.InferenceSession.create(F + 'nope.onnx'); } catch (e) { console.log('missing:', e.message); }
