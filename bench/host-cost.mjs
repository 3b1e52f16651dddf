// Host cost per step: the tutorial CNN's `fit` step and a `predict` batch (batch 64, Adam) timed for
// Neurite (dist/) and TF.js 4.22 webgpu on the null WebGPU device, in this process. The device does
// no work, so the time is the JavaScript that builds and encodes each step. Run as its own process
// (bench.mjs and gpu.mjs spawn it) because it replaces navigator.gpu; prints one JSON line with --json.
import { installNullGpu } from './null-webgpu.mjs';
import { BATCH, randomArray, tutorialCnn } from './common.mjs';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const quick = args.has('quick');
const STEPS = quick ? 8 : 24;
const REPS = quick ? 3 : 7;

installNullGpu();
const nt = await import('../dist/index.js');
const tf = await import('@tensorflow/tfjs-core');
await import('@tensorflow/tfjs-backend-webgpu');
const tfl = await import('@tensorflow/tfjs-layers');

const n = BATCH * STEPS;
const pixels = randomArray(n * 784, 3).map((v) => v + 0.5);
const labels = Int32Array.from({ length: n }, (_, i) => i % 10);

/** A compiled tutorial CNN of one library with its data, and its fit and predict passes. */
function setUp(lib) {
  const model = lib.model();
  model.compile({ optimizer: lib.adam(), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const x = lib.tensor(pixels, [n, 28, 28, 1]);
  const y = lib.labels();
  return {
    fit: () => model.fit(x, y, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0 }),
    predict: async () => {
      const out = model.predict(x, { batchSize: BATCH });
      await out.data();
      out.dispose();
    },
  };
}

/** Seconds of one run of `fn`. */
async function once(fn) {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/**
 * Milliseconds per step (median over REPS) of each library's fit and predict. The libraries take
 * turns rep by rep, so load from other processes on the machine falls on both alike.
 */
async function measureAll(libs) {
  const times = libs.map(() => ({ fit: [], predict: [] }));
  for (const kind of ['fit', 'predict']) {
    for (const lib of libs) for (let i = 0; i < 2; i++) await lib[kind](); // warm-up: pipelines, pools
    for (let r = 0; r < REPS; r++) {
      for (let i = 0; i < libs.length; i++) times[i][kind].push(await once(libs[i][kind]));
    }
  }
  const median = (v) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];
  return times.map((t) => ({ stepMs: (median(t.fit) * 1000) / STEPS, predictMs: (median(t.predict) * 1000) / STEPS }));
}

// Each library on its own backend: Neurite's tensors live on its webgpu backend, TF.js's on its own.
await nt.setBackend('webgpu');
const neuriteLib = setUp({
  model: () => tutorialCnn(nt.layers, nt.sequential),
  adam: () => nt.adam({ learningRate: 1e-3 }),
  tensor: (v, s) => nt.tensor(v, s),
  labels: () => nt.tensor(labels, [n], 'int32'),
});
await tf.setBackend('webgpu');
await tf.ready();
const tfjsLib = setUp({
  model: () => tutorialCnn(tfl.layers, tfl.sequential),
  adam: () => tf.train.adam(1e-3),
  tensor: (v, s) => tf.tensor(v, s),
  labels: () => tf.tensor(Float32Array.from(labels), [n]),
});
const [neurite, tfjs] = await measureAll([neuriteLib, tfjsLib]);

const result = { steps: STEPS, reps: REPS, neurite, tfjs };
if (args.has('json')) {
  console.log(JSON.stringify(result));
} else {
  const f = (v) => v.toFixed(2);
  console.log(`host ms per step on the null device (batch ${BATCH}, ${STEPS} steps, median of ${REPS}):`);
  console.log(`  fit step      neurite ${f(neurite.stepMs)}  tfjs-webgpu ${f(tfjs.stepMs)}  (${f(tfjs.stepMs / neurite.stepMs)}× less)`);
  console.log(`  predict batch neurite ${f(neurite.predictMs)}  tfjs-webgpu ${f(tfjs.predictMs)}  (${f(tfjs.predictMs / neurite.predictMs)}× less)`);
}
process.exit(0);
