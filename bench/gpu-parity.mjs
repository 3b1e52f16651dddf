// The parity checks of `npm run bench:gpu`: a few ops and a training step's losses computed on the
// GPU under a given WebGPU configuration and on the exact CPU backend, compared within stated
// tolerances (largest difference relative to the largest CPU value), so a speed figure never
// stands for wrong results.
import { randomArray } from './common.mjs';

/** What each check computes, from host arrays, on the current backend: a Float32Array. */
function checks(nt) {
  const t = (shape, seed) => nt.tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed), shape);
  const matMulCase = (m, k, n, opts = {}) => async () => {
    const a = t(opts.transposeA ? [k, m] : [m, k], 11);
    const b = t(opts.transposeB ? [n, k] : [k, n], 12);
    return read(nt.matMul(a, b, opts), [a, b]);
  };
  return [
    { name: 'matMul 67×129×33', tol: 1e-4, run: matMulCase(67, 129, 33) },
    { name: 'matMul 257×1000×255, transposeB', tol: 1e-4, run: matMulCase(257, 1000, 255, { transposeB: true }) },
    { name: 'matMul 1×300×7, transposeA', tol: 1e-4, run: matMulCase(1, 300, 7, { transposeA: true }) },
    {
      name: 'conv2d [3,13,11,5]∗[3,3,5,7], stride 2, same',
      tol: 1e-4,
      run: async () => {
        const x = t([3, 13, 11, 5], 21);
        const f = t([3, 3, 5, 7], 22);
        return read(nt.conv2d(x, f, { strides: 2, padding: 'same' }), [x, f]);
      },
    },
    {
      name: 'fused chain sigmoid(relu(2x+b))·exp(−x²)',
      tol: 1e-5,
      run: async () => {
        const x = t([37, 41], 31);
        const b = t([41], 32);
        return read(nt.mul(nt.sigmoid(nt.relu(nt.add(nt.mul(x, 2), b))), nt.exp(nt.neg(nt.square(x)))), [x, b]);
      },
    },
    {
      name: 'small CNN: losses of 3 Adam steps',
      tol: 1e-3,
      run: async () => {
        const model = nt.sequential({
          layers: [
            nt.layers.conv2d({ inputShape: [10, 10, 1], filters: 6, kernelSize: 3, activation: 'relu', seed: 1 }),
            nt.layers.maxPooling2d({ poolSize: 2 }),
            nt.layers.flatten(),
            nt.layers.dense({ units: 4, activation: 'softmax', seed: 2 }),
          ],
        });
        model.compile({ optimizer: nt.adam({ learningRate: 1e-2 }), loss: 'sparseCategoricalCrossentropy' });
        const x = t([12, 10, 10, 1], 41);
        const y = nt.tensor(Int32Array.from({ length: 12 }, (_, i) => i % 4), [12], 'int32');
        const losses = [];
        for (let i = 0; i < 3; i++) losses.push([await model.trainOnBatch(x, y)].flat()[0]);
        nt.dispose([x, y]);
        model.dispose();
        return Float32Array.from(losses);
      },
    },
  ];
}

/** Reads `out`, then disposes it and `inputs`. */
async function read(out, inputs) {
  const values = await out.data();
  out.dispose();
  for (const t of inputs) t.dispose();
  return values;
}

/** max|gpu − cpu| / max|cpu|: the error relative to the result's scale; NaN anywhere fails. */
export function relativeError(gpu, cpu) {
  if (gpu.length !== cpu.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < cpu.length; i++) {
    const d = Math.abs(gpu[i] - cpu[i]);
    if (!(d <= diff)) diff = Number.isNaN(d) ? Infinity : d;
    scale = Math.max(scale, Math.abs(cpu[i]));
  }
  return diff / Math.max(scale, 1e-30);
}

/**
 * Runs every check on the CPU backend and on `setBackend('webgpu', webgpuOptions)`; returns
 * { name, error, tol, ok } per check (a check that throws counts as a failure).
 */
export async function gpuParity(nt, webgpuOptions) {
  const results = [];
  for (const check of checks(nt)) {
    let error;
    try {
      await nt.setBackend('cpu');
      const cpu = await check.run();
      await nt.setBackend('webgpu', webgpuOptions);
      error = relativeError(await check.run(), cpu);
    } catch (e) {
      console.error(`parity ${check.name}: ${e.message}`);
      error = Infinity;
    }
    results.push({ name: check.name, error, tol: check.tol, ok: error <= check.tol });
  }
  return results;
}
