// Host cost per step: the tutorial CNN's `fit` step and a `predict` batch (batch 64, Adam) timed for
// Neurite (dist/) and TF.js 4.22 webgpu on the null WebGPU device, in this process. The device does
// no work, so the time is the JavaScript that builds and encodes each step. Run as its own process
// (bench.mjs and gpu.mjs spawn it) because it replaces navigator.gpu; prints one JSON line with --json.
import { installNullGpu } from './null-webgpu.mjs';
import { BATCH, neuriteApi, tfjsApi, trainingRun } from './common.mjs';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const quick = args.has('quick');
const STEPS = quick ? 8 : 24;
const REPS = quick ? 3 : 7;

installNullGpu();
const nt = await import('../dist/index.js');
const tf = await import('@tensorflow/tfjs-core');
await import('@tensorflow/tfjs-backend-webgpu');
const tfl = await import('@tensorflow/tfjs-layers');

/** Seconds of one run of `fn`. */
async function once(fn) {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/**
 * Milliseconds per step (median over REPS epochs; 3 × REPS predict passes) of each library's fit and predict. The libraries take
 * turns rep by rep, so load from other processes on the machine falls on both alike.
 */
async function measureAll(libs) {
  const times = libs.map(() => ({ fit: [], predict: [] }));
  for (const kind of ['fit', 'predict']) {
    for (const lib of libs) for (let i = 0; i < 2; i++) await lib[kind](); // warm-up: pipelines, pools
    // A predict pass is ~20× shorter than a fit epoch, so more of them for as steady a median.
    for (let r = 0; r < (kind === 'predict' ? 3 * REPS : REPS); r++) {
      for (let i = 0; i < libs.length; i++) times[i][kind].push(await once(libs[i][kind]));
    }
  }
  const median = (v) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];
  return times.map((t) => ({ stepMs: (median(t.fit) * 1000) / STEPS, predictMs: (median(t.predict) * 1000) / STEPS }));
}

// Each library on its own backend: Neurite's tensors live on its webgpu backend, TF.js's on its own.
await nt.setBackend('webgpu');
const neuriteRun = trainingRun(neuriteApi(nt), { steps: STEPS });
await tf.setBackend('webgpu');
await tf.ready();
const tfjsRun = trainingRun(tfjsApi(tf, tfl), { steps: STEPS });
// The same Neurite model with step plans off (every step through autograd and fusion), taking
// its turn beside the others: what the plans save.
const withoutPlans = (fn) => async () => {
  nt.setStepPlans(false);
  try {
    await fn();
  } finally {
    nt.setStepPlans(true);
  }
};
const plansOff = nt.setStepPlans ? { fit: withoutPlans(neuriteRun.fit), predict: withoutPlans(neuriteRun.predict) } : null;
const [neurite, tfjs, neuriteNoPlans] = await measureAll(plansOff ? [neuriteRun, tfjsRun, plansOff] : [neuriteRun, tfjsRun]);

const result = { steps: STEPS, reps: REPS, neurite, tfjs, neuriteNoPlans };
if (args.has('json')) {
  console.log(JSON.stringify(result));
} else {
  const f = (v) => v.toFixed(2);
  console.log(`host ms per step on the null device (batch ${BATCH}, ${STEPS} steps, median of ${REPS}):`);
  console.log(`  fit step      neurite ${f(neurite.stepMs)}  tfjs-webgpu ${f(tfjs.stepMs)}  (${f(tfjs.stepMs / neurite.stepMs)}× less)`);
  console.log(`  predict batch neurite ${f(neurite.predictMs)}  tfjs-webgpu ${f(tfjs.predictMs)}  (${f(tfjs.predictMs / neurite.predictMs)}× less)`);
  if (neuriteNoPlans) console.log(`  step plans off: fit step ${f(neuriteNoPlans.stepMs)}, predict batch ${f(neuriteNoPlans.predictMs)}`);
}
process.exit(0);
