// The benchmark workloads, shared by `npm run bench` (Node, bench.mjs) and `npm run bench:browser`
// (one Chromium page, bench/browser/): matMul n×n×n and tutorial-CNN training for Neurite, TF.js and
// jax-js. Each takes the library's module as an argument and selects no backend: the caller does,
// so the same code measures every library on the same adapter.

/** Runs `fn` (async) `reps` times after `warmup` runs; returns the median seconds per run. */
export async function timeIt(fn, { warmup = 1, reps = 3 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** n uniform values in [-0.5, 0.5) from a linear congruential generator (the same in every library's run). */
export function randomArray(n, seed = 1) {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

/**
 * GFLOP/s of matMul n×n×n on the library's current backend, the readback of the result included.
 * `lib` is Neurite's or TF.js's module: both spell tensor, matMul, data and dispose alike.
 */
export async function matMulGflops(lib, n, reps = 3) {
  const a = lib.tensor(randomArray(n * n, 1), [n, n]);
  const b = lib.tensor(randomArray(n * n, 2), [n, n]);
  const s = await timeIt(async () => {
    const c = lib.matMul(a, b);
    await c.data();
    c.dispose();
  }, { reps });
  lib.dispose([a, b]);
  return (2 * n ** 3) / s / 1e9;
}

/** GFLOP/s of jax-js's matmul n×n×n on its default device, the readback included (jax-js arrays are consumed by use: `.ref` keeps them). */
export async function jaxMatMul(jax, n, reps = 3) {
  const a = jax.numpy.array(randomArray(n * n, 1)).reshape([n, n]);
  const b = jax.numpy.array(randomArray(n * n, 2)).reshape([n, n]);
  const s = await timeIt(() => jax.numpy.matmul(a.ref, b.ref).data(), { reps });
  a.dispose();
  b.dispose();
  return (2 * n ** 3) / s / 1e9;
}

/** The tutorial CNN, built with either library's Keras-style layers API. */
export function tutorialCnn(L, seq) {
  return seq({
    layers: [
      L.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
      L.maxPooling2d({ poolSize: 2 }),
      L.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
      L.maxPooling2d({ poolSize: 2 }),
      L.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
      L.flatten(),
      L.dense({ units: 64, activation: 'relu' }),
      L.dense({ units: 10, activation: 'softmax' }),
    ],
  });
}

/** The training batch of every CNN benchmark. */
export const BATCH = 64;

/** Samples/s of Neurite's `fit` of the tutorial CNN (Adam, sparse cross-entropy), `steps` batches per epoch. */
export async function neuriteTrain(nt, steps, reps = 2) {
  const model = tutorialCnn(nt.layers, nt.sequential);
  model.compile({ optimizer: nt.adam({ learningRate: 1e-3 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const n = BATCH * steps;
  const x = nt.tensor(randomArray(n * 784, 3).map((v) => v + 0.5), [n, 28, 28, 1]);
  const y = nt.tensor(Int32Array.from({ length: n }, (_, i) => i % 10), [n], 'int32');
  const s = await timeIt(() => model.fit(x, y, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0 }), { warmup: 1, reps });
  nt.dispose([x, y]);
  return n / s;
}

/** Samples/s of TF.js's `fit` of the same CNN with the same data. */
export async function tfTrain(tf, tfl, steps, reps = 2) {
  const model = tutorialCnn(tfl.layers, tfl.sequential);
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const n = BATCH * steps;
  const x = tf.tensor(randomArray(n * 784, 3).map((v) => v + 0.5), [n, 28, 28, 1]);
  const y = tf.tensor(Float32Array.from({ length: n }, (_, i) => i % 10), [n]);
  const s = await timeIt(() => model.fit(x, y, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0 }), { warmup: 1, reps });
  tf.dispose([x, y]);
  return n / s;
}
