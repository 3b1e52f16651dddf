// What the benchmarks share: the tutorial CNN in either library's layers API, seeded inputs,
// a median timer, and the host-cost measurement run in a child process (host-cost.mjs).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The timer, the seeded inputs and the CNN are the browser-safe ones the Chromium bench uses too.
import { BATCH, randomArray, timeIt as timeMedian, tutorialCnn } from './workloads.mjs';

export { BATCH, randomArray, timeMedian, tutorialCnn };

/**
 * Host cost per step on the null device, measured by host-cost.mjs in a child process (it
 * replaces navigator.gpu, which the caller may be using): { neurite, tfjs: { stepMs, predictMs } }.
 */
export function measureHostCost({ quick = false } = {}) {
  const script = fileURLToPath(new URL('./host-cost.mjs', import.meta.url));
  const argv = [script, '--json', ...(quick ? ['--quick'] : [])];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, argv, { maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`host-cost.mjs failed: ${stderr.trim().split('\n').slice(-5).join(' | ') || error.message}`));
      const line = stdout.trim().split('\n').findLast((l) => l.startsWith('{'));
      if (!line) return reject(new Error(`host-cost.mjs printed no result: ${stdout.slice(-500)}`));
      resolve(JSON.parse(line));
    });
  });
}

/** Neurite's side of a training run: the tutorial CNN, Adam, and tensors on the current backend. */
export function neuriteApi(nt) {
  return {
    model: () => tutorialCnn(nt.layers, nt.sequential),
    adam: () => nt.adam({ learningRate: 1e-3 }),
    tensor: (values, shape) => nt.tensor(values, shape),
    labels: (values) => nt.tensor(values, [values.length], 'int32'),
    dispose: (ts) => nt.dispose(ts),
  };
}

/** TF.js's side of a training run (its labels are float32, as its sparse cross-entropy takes them). */
export function tfjsApi(tf, tfl) {
  return {
    model: () => tutorialCnn(tfl.layers, tfl.sequential),
    adam: () => tf.train.adam(1e-3),
    tensor: (values, shape) => tf.tensor(values, shape),
    labels: (values) => tf.tensor(Float32Array.from(values), [values.length]),
    dispose: (ts) => tf.dispose(ts),
  };
}

/**
 * A compiled tutorial CNN and `steps` batches of seeded MNIST-shaped data, on the library's
 * current backend: `fit` runs one epoch, `predict` predicts every batch and reads the result.
 */
export function trainingRun(api, { batch = BATCH, steps }) {
  const n = batch * steps;
  const model = api.model();
  model.compile({ optimizer: api.adam(), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const x = api.tensor(randomArray(n * 784, 3).map((v) => v + 0.5), [n, 28, 28, 1]);
  const y = api.labels(Int32Array.from({ length: n }, (_, i) => i % 10));
  return {
    samples: n,
    fit: () => model.fit(x, y, { epochs: 1, batchSize: batch, shuffle: false, verbose: 0 }),
    predict: async () => {
      const out = model.predict(x, { batchSize: batch });
      await out.data();
      out.dispose();
    },
    dispose: () => {
      api.dispose([x, y]);
      model.dispose?.();
    },
  };
}

/** Training samples per second of `fit` (median of `reps` epochs after one warm-up epoch). */
export async function fitSamplesPerSecond(api, { batch = BATCH, steps, reps }) {
  const run = trainingRun(api, { batch, steps });
  try {
    // Two warm-up calls: the first records Neurite's step plans, the second is their first replay;
    // timed calls are steady state.
    return run.samples / (await timeMedian(run.fit, { warmup: 2, reps }));
  } finally {
    run.dispose();
  }
}
