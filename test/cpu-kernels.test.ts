// The CPU backend's two kernel sets against each other: every op with a wasm kernel (matMul and
// fusedMatMul, conv2d and fusedConv2d with both gradients, maxPool2d and its gradient, fused
// elementwise expressions) run on cpu/wasm and on the exact JS reference (cpu/js) from the same
// fresh random inputs, on odd shapes that leave SIMD and micro-tile tails. Elementwise kernels must
// agree bit for bit; GEMM-based ones to float32 rounding (they sum in f32, the reference in f64).
// Each op's float64 reference is in its own suite (matmul, conv, pool), which runs on both sets.
import { describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { CpuBackend } from '../src/backend/cpu.js';
import { engine } from '../src/engine.js';
import { wasmFeatures } from '../src/backend/cpu/wasm/features.js';
import { normRelativeError } from './helpers/close.js';
import { rand, withGrads } from './helpers/kernels.js';
import { uniform } from './helpers/random.js';

type Inputs = { values: Float64Array; shape: number[] }[];

/** Runs `f` on both kernel sets from the same inputs; returns [wasm outputs, js outputs]. */
async function onBoth(inputs: Inputs, f: (...xs: nt.Tensor[]) => nt.Tensor[]): Promise<[Float32Array[], Float32Array[]]> {
  const results: Float32Array[][] = [];
  for (const kernels of ['wasm', 'js'] as const) {
    await nt.setBackend('cpu', { kernels });
    const xs = inputs.map(({ values, shape }) => nt.tensor(Float32Array.from(values), shape));
    const ys = nt.tidy(() => f(...xs));
    results.push((await Promise.all(ys.map((y) => y.data()))) as Float32Array[]);
    nt.dispose([...xs, ...ys]);
  }
  await nt.setBackend('cpu');
  return [results[0], results[1]];
}

function expectClose(wasm: Float32Array[], js: Float32Array[], tol: number): void {
  expect(wasm.length).toBe(js.length);
  wasm.forEach((w, i) => {
    expect(w.some(Number.isNaN), 'NaN in the wasm result').toBe(false);
    expect(normRelativeError(w, js[i])).toBeLessThan(tol);
  });
}


describe.runIf(wasmFeatures().simd)('cpu kernels: wasm against the JS reference', () => {
  it('the default CPU backend runs wasm kernels; { kernels: "js" } the reference', async () => {
    await nt.setBackend('cpu', { kernels: 'js' });
    expect((engine.backend as CpuBackend).kernels).toBe('js');
    await nt.setBackend('cpu');
    expect((engine.backend as CpuBackend).kernels).toBe('wasm');
    await expect(nt.setBackend('cpu', { kernels: 'simd' as 'js' })).rejects.toThrow(/kernels must be 'wasm' or 'js'/);
  });

  for (const [M, K, N, batch] of [[1, 1, 1, 1], [5, 7, 3, 2], [9, 33, 17, 1], [13, 300, 11, 3]]) {
    for (const [transposeA, transposeB] of [[false, false], [true, false], [false, true], [true, true]]) {
      it(`matMul and its gradients ${batch}×${M}×${K}×${N}, transposeA ${transposeA}, transposeB ${transposeB}`, async () => {
        const a = rand(batch, ...(transposeA ? [K, M] : [M, K]));
        const b = rand(...(transposeB ? [N, K] : [K, N])); // broadcast over the batch
        const [w, j] = await onBoth([a, b, rand(batch, M, N)], withGrads((x, y) => nt.matMul(x, y, { transposeA, transposeB })));
        expectClose(w, j, 1e-5);
      });
    }
  }

  for (const activation of ['linear', 'relu', 'sigmoid', 'tanh'] as const) {
    it(`fusedMatMul with bias, ${activation}, and its gradients`, async () => {
      const [w, j] = await onBoth([rand(7, 19), rand(19, 13), rand(13), rand(7, 13)], withGrads((x, y, bias) => nt.fusedMatMul(x, y, { bias, activation })));
      expectClose(w, j, 1e-5);
    });
  }

  const convs: { x: number[]; f: number[]; options: nt.Conv2dOptions }[] = [
    { x: [2, 9, 7, 3], f: [3, 3, 3, 5], options: {} },
    { x: [1, 8, 11, 4], f: [2, 3, 4, 8], options: { strides: 2, padding: 'same' } },
    { x: [3, 10, 9, 1], f: [3, 2, 1, 7], options: { dilations: [2, 1], padding: 'same' } },
    { x: [2, 12, 12, 6], f: [5, 5, 6, 9], options: { strides: [3, 2] } },
  ];
  for (const { x, f, options } of convs) {
    it(`conv2d and its gradients: x ${JSON.stringify(x)}, filter ${JSON.stringify(f)}, ${JSON.stringify(options)}`, async () => {
      const [, , , outC] = f;
      const probe = nt.conv2d(nt.zeros(x), nt.zeros(f), options);
      const outShape = probe.shape;
      probe.dispose();
      const [w, j] = await onBoth([rand(...x), rand(...f), rand(outC), rand(...outShape)], withGrads((xs, fs, bias) => nt.fusedConv2d(xs, fs, { ...options, bias, activation: 'relu' })));
      expectClose(w, j, 1e-5);
    });
  }

  for (const [x, options] of [[[2, 9, 7, 8], { poolSize: 2 }], [[1, 7, 9, 4], { poolSize: 3, strides: 2, padding: 'same' }], [[2, 6, 6, 12], { poolSize: [2, 3] }]] as const) {
    it(`maxPool2d and its gradient: x ${JSON.stringify(x)}, ${JSON.stringify(options)}`, async () => {
      const probe = nt.maxPool2d(nt.zeros([...x]), options);
      const outShape = probe.shape;
      probe.dispose();
      const [w, j] = await onBoth([rand(...x), rand(...outShape)], withGrads((xs) => nt.maxPool2d(xs, options)));
      expectClose(w, j, 1e-6);
    });
  }

  it('fused elementwise chains agree bit for bit, broadcast and transposed inputs, NaN and infinities included', async () => {
    const a = rand(5, 7);
    a.values[3] = NaN;
    a.values[8] = Infinity;
    a.values[11] = -Infinity;
    a.values[12] = 0;
    const [w, j] = await onBoth([a, rand(7), rand(7, 5)], (x, b, c) => {
      const t = nt.transpose(c);
      return [
        nt.add(nt.mul(nt.exp(x), b), nt.tanh(t)),
        nt.maximum(nt.log(nt.abs(x)), nt.minimum(t, b)),
        nt.pow(nt.sub(x, b), 3),
        nt.relu(nt.div(nt.sqrt(nt.abs(x)), nt.sign(t))),
        nt.sigmoid(nt.neg(nt.floor(nt.mul(x, 4)))),
        nt.cast(nt.greater(x, b), 'float32'),
      ];
    });
    for (let i = 0; i < w.length; i++) expect(Array.from(w[i])).toEqual(Array.from(j[i]));
  });
});

describe.runIf(wasmFeatures().simd)('cpu kernels: rank-3 elementwise', () => {
  it('agrees bit for bit with broadcast, permuted and sliced rank-3 inputs (blocks walked by an odometer)', async () => {
    const [w, j] = await onBoth([rand(3, 4, 5), rand(4, 1), rand(5, 3, 4), rand(1, 1, 3)], (x, b, c, d) => [
      nt.mul(nt.add(x, b), nt.transpose(c, { perm: [1, 2, 0] })),
      nt.sub(nt.slice(x, { begin: [1, 0, 2], size: [2, 4, 3] }), nt.exp(d)),
      nt.add(x, nt.reshape(nt.sum(d), [])),
    ]);
    for (let i = 0; i < w.length; i++) expect(Array.from(w[i])).toEqual(Array.from(j[i]));
  });
});

describe.runIf(wasmFeatures().simd)('cpu kernels: reductions', () => {
  it('sum and max over each axis of an odd-shaped tensor agree bit for bit, NaN included', async () => {
    const x = rand(5, 7, 9);
    x.values[40] = NaN;
    const [w, j] = await onBoth([x, rand(3, 13)], (a, b) => [
      ...[0, 1, 2].flatMap((axis) => [nt.sum(a, { axis }), nt.max(a, { axis })]),
      nt.sum(b), nt.max(b, { axis: 1 }), nt.sum(b, { axis: 0, keepDims: true }),
    ]);
    for (let i = 0; i < w.length; i++) expect(Array.from(w[i])).toEqual(Array.from(j[i]));
    expect(w[1].some(Number.isNaN)).toBe(true); // the NaN reaches its max
  });
});

describe.runIf(wasmFeatures().simd)('cpu kernels: training', () => {
  it('a small CNN follows the JS reference loss trajectory within float32 rounding over 24 steps', async () => {
    const n = 48;
    const xs = Float32Array.from(uniform(n * 8 * 8 * 2));
    const ys = Int32Array.from({ length: n }, (_, i) => (i * 7) % 5);
    const losses: number[][] = [];
    for (const kernels of ['wasm', 'js'] as const) {
      await nt.setBackend('cpu', { kernels });
      const model = nt.sequential({
        layers: [
          nt.layers.conv2d({ inputShape: [8, 8, 2], filters: 8, kernelSize: 3, activation: 'relu', seed: 3 }),
          nt.layers.maxPooling2d({ poolSize: 2 }),
          nt.layers.conv2d({ filters: 12, kernelSize: 2, padding: 'same', activation: 'relu', seed: 4 }),
          nt.layers.flatten(),
          nt.layers.dense({ units: 5, activation: 'softmax', seed: 5 }),
        ],
      });
      model.compile({ optimizer: nt.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy' });
      const x = nt.tensor(xs, [n, 8, 8, 2]);
      const y = nt.tensor(ys, [n], 'int32');
      const history = await model.fit(x, y, { epochs: 6, batchSize: 12, shuffle: false, verbose: 0 });
      losses.push(history.history.loss as number[]);
      nt.dispose([x, y]);
      model.dispose();
    }
    await nt.setBackend('cpu');
    expect(losses[0].length).toBe(6);
    expect(losses[0][5]).toBeLessThan(losses[0][0]); // it learns
    losses[0].forEach((l, i) => {
      expect(Number.isFinite(l)).toBe(true);
      expect(Math.abs(l - losses[1][i])).toBeLessThan(1e-4 * Math.abs(losses[1][i]) + 1e-6);
    });
  });
});

describe.runIf(wasmFeatures().simd)('cpu wasm memory', () => {
  // On 2 threads too: batches of 32 are large enough that the GEMMs and elementwise kernels split.
  for (const threads of [1, 2]) {
  it(`stays flat over 300 training steps on ${threads} thread(s): tensors reuse freed heap blocks, the wasm memory does not grow`, async () => {
    await nt.setBackend('cpu', { threads });
    const backend = engine.backend as CpuBackend;
    expect(backend.threads).toBe(threads);
    const model = nt.sequential({
      layers: [
        nt.layers.conv2d({ inputShape: [12, 12, 1], filters: 16, kernelSize: 3, activation: 'relu', seed: 1 }),
        nt.layers.maxPooling2d({ poolSize: 2 }),
        nt.layers.flatten(),
        nt.layers.dense({ units: 3, activation: 'softmax', seed: 2 }),
      ],
    });
    model.compile({ optimizer: nt.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy' });
    const steps = 300;
    const batch = 32;
    const xs = nt.tensor(Float32Array.from(uniform(steps * batch * 144)), [steps * batch, 12, 12, 1]);
    const ys = nt.tensor(Int32Array.from({ length: steps * batch }, (_, i) => i % 3), [steps * batch], 'int32');
    const heap: number[] = [];
    const live: number[] = [];
    await model.fit(xs, ys, {
      epochs: 1, batchSize: batch, shuffle: false, verbose: 0,
      callbacks: { onBatchEnd: () => { heap.push(backend.heapBytes()); live.push(nt.memory().bytesInUse); } },
    });
    expect(heap.length).toBe(steps);
    expect(heap[steps - 1]).toBe(heap[19]);
    expect(live[steps - 1]).toBe(live[19]);
    nt.dispose([xs, ys]);
    model.dispose();
  });
  }
});
