// Runs an exported model with onnxruntime-node on a float32 input written by export.py and
// compares with the torch output; prints the max abs difference, metadata and CPU latency.
// usage: node verify_onnx.cjs MODEL INPUT.bin EXPECTED.bin [threads]
const fs = require('node:fs');
const ort = require('onnxruntime-node');

const f32 = (file) => {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};

(async () => {
  const [model, inputFile, expectedFile, threads = '2'] = process.argv.slice(2);
  const s = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads),
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const input = new ort.Tensor('float32', f32(inputFile), [1, 3, 320, 320]);
  const feeds = { [s.inputNames[0]]: input };
  const out = (await s.run(feeds))[s.outputNames[0]];
  const expected = f32(expectedFile);
  // rows 0-3 are boxes in input pixels, rows 4.. class scores: compare them separately
  const n = out.dims[2];
  let boxDiff = 0;
  let scoreDiff = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(out.data[i] - expected[i]);
    if (i < 4 * n) boxDiff = Math.max(boxDiff, d);
    else scoreDiff = Math.max(scoreDiff, d);
  }
  const times = [];
  for (let i = 0; i < 30; i++) {
    const t = process.hrtime.bigint();
    await s.run(feeds);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  const meta = s.handler && s.handler.metadata ? s.handler.metadata : undefined;
  console.log(
    JSON.stringify({
      input: s.inputNames,
      output: s.outputNames,
      dims: out.dims,
      maxAbsDiffBoxPx: boxDiff,
      maxAbsDiffScore: scoreDiff,
      threads: Number(threads),
      msP50: +times[15].toFixed(2),
      msMin: +times[0].toFixed(2),
      metadata: meta,
    }),
  );
  if (out.data.length !== expected.length || !(boxDiff < 1e-2 && scoreDiff < 1e-4)) process.exit(1);
})().catch((e) => {
  console.error(e);
  process.exit(2);
});
