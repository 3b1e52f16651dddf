// The wasm kernels on several threads: workers over a shared heap split the GEMM's rows (and
// conv's im2col rows), so every result must equal the one-thread result bit for bit, and stay
// within float32 rounding of a float64 reference. Odd shapes leave ragged micro-tiles and SIMD
// tails, products smaller than the thread count and empty ones; sizes above the parallel
// threshold make the split happen.
import { afterAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { CpuBackend } from '../src/backend/cpu.js';
import { engine } from '../src/engine.js';
import { PARALLEL_MIN_MADDS, runGemm } from '../src/backend/cpu/wasm/gemm-run.js';
import { WasmRuntime } from '../src/backend/cpu/wasm/runtime.js';
import { wasmFeatures } from '../src/backend/cpu/wasm/features.js';
import { normRelativeError } from './helpers/close.js';
import { gemmBoundRatio, rand, withGrads } from './helpers/kernels.js';
import { uniform } from './helpers/random.js';

/** M, K, N: above the threshold with ragged edges, M below the thread count's tiles, tiny and empty. */
const SHAPES: [number, number, number][] = [
  [131, 260, 67], [5, 300, 257], [9, 517, 61], [1, 1000, 700], [301, 33, 29], [257, 64, 64], [3, 5, 7], [0, 300, 300], [300, 0, 300], [300, 300, 0],
];

describe.runIf(wasmFeatures().simd)('wasm GEMM core on threads', () => {
  const runtimes = new Map<number, WasmRuntime>();
  afterAll(() => {
    for (const rt of runtimes.values()) rt.stopThreads();
  });
  async function runtime(threads: number): Promise<WasmRuntime> {
    let rt = runtimes.get(threads);
    if (!rt) {
      rt = new WasmRuntime();
      await rt.setThreads(threads);
      runtimes.set(threads, rt);
    }
    expect(rt.threads).toBe(threads);
    return rt;
  }
  function product(rt: WasmRuntime, A: Float64Array, B: Float64Array, M: number, K: number, N: number, tA: boolean, tB: boolean, accumulate: boolean): Float32Array {
    const aPtr = rt.heap.alloc(M * K * 4);
    const bPtr = rt.heap.alloc(K * N * 4);
    const cPtr = rt.heap.alloc((M * N + 8) * 4);
    rt.heap.f32().set(A, aPtr / 4);
    rt.heap.f32().set(B, bPtr / 4);
    rt.heap.f32().fill(accumulate ? 0.5 : NaN, cPtr / 4, cPtr / 4 + M * N);
    rt.heap.f32().fill(NaN, cPtr / 4 + M * N, cPtr / 4 + M * N + 8);
    const a = tA ? { ptr: aPtr, rowStride: 1, colStride: M } : { ptr: aPtr, rowStride: K, colStride: 1 };
    const b = tB ? { ptr: bPtr, rowStride: 1, colStride: K } : { ptr: bPtr, rowStride: N, colStride: 1 };
    runGemm(rt, a, b, cPtr, M, N, K, accumulate);
    const got = rt.heap.f32().slice(cPtr / 4, cPtr / 4 + M * N + 8);
    rt.heap.release(aPtr, M * K * 4);
    rt.heap.release(bPtr, K * N * 4);
    rt.heap.release(cPtr, (M * N + 8) * 4);
    return got;
  }

  for (const [M, K, N] of SHAPES) {
    for (const [tA, tB] of [[false, false], [true, true], [true, false]]) {
      for (const accumulate of [false, true]) {
        it(`${M}×${K} · ${K}×${N}, transposeA ${tA}, transposeB ${tB}${accumulate ? ', accumulating' : ''}: 2 and 3 threads bit-identical to 1, near float64`, async () => {
          const A = uniform(M * K);
          const B = uniform(K * N);
          const one = product(await runtime(1), A, B, M, K, N, tA, tB, accumulate);
          for (const threads of [2, 3]) {
            const got = product(await runtime(threads), A, B, M, K, N, tA, tB, accumulate);
            expect(Buffer.from(got.buffer).equals(Buffer.from(one.buffer)), `${threads} threads`).toBe(true);
          }
          let worst = 0;
          let nonFinite = 0;
          for (let i = 0; i < M; i++) {
            for (let j = 0; j < N; j++) {
              let exact = accumulate ? 0.5 : 0;
              let magnitude = accumulate ? 0.5 : 0;
              for (let k = 0; k < K; k++) {
                const p = A[tA ? k * M + i : i * K + k] * B[tB ? j * K + k : k * N + j];
                exact += p;
                magnitude += Math.abs(p);
              }
              const v = one[i * N + j];
              if (!Number.isFinite(v)) nonFinite++;
              worst = Math.max(worst, Math.abs(v - exact) / ((K + 1) * 2 ** -24 * magnitude + 1e-30));
            }
          }
          expect(nonFinite).toBe(0);
          expect(worst).toBeLessThanOrEqual(1);
          for (let g = M * N; g < M * N + 8; g++) expect(Number.isNaN(one[g])).toBe(true);
        });
      }
    }
  }

  it('a product whose calls overflow a worker area runs in rounds, still bit-identical', async () => {
    // K = 600 k blocks: each thread's list holds 1,800 calls, more than one dispatch carries.
    const [M, K, N] = [16, 256 * 600, 8];
    const A = uniform(M * K);
    const B = uniform(K * N);
    const one = product(await runtime(1), A, B, M, K, N, false, false, false);
    const two = product(await runtime(2), A, B, M, K, N, false, false, false);
    expect(Buffer.from(two.buffer).equals(Buffer.from(one.buffer))).toBe(true);
    const worst = gemmBoundRatio(A, B, one, M, K, N);
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('splits products above the threshold only', () => {
    expect(PARALLEL_MIN_MADDS).toBeLessThan(131 * 260 * 67);
  });
});

type Inputs = { values: Float64Array; shape: number[] }[];

/** Runs `f` from the same inputs on the wasm kernels at 1, 2 and 3 threads and on the JS (float64-summing) reference. */
async function onThreads(inputs: Inputs, f: (...xs: nt.Tensor[]) => nt.Tensor[]): Promise<{ threads: Float32Array[][]; js: Float32Array[]; split: boolean[] }> {
  const results: Float32Array[][] = [];
  const split: boolean[] = [];
  for (const options of [{ threads: 1 }, { threads: 2 }, { threads: 3 }, { kernels: 'js' as const }]) {
    await nt.setBackend('cpu', options);
    if (options.threads) expect(nt.cpuThreads().threads).toBe(options.threads);
    const xs = inputs.map(({ values, shape }) => nt.tensor(Float32Array.from(values), shape));
    const before = (engine.backend as CpuBackend).parallelRuns;
    const ys = nt.tidy(() => f(...xs));
    results.push((await Promise.all(ys.map((y) => y.data()))) as Float32Array[]);
    if (options.threads && options.threads > 1) split.push((engine.backend as CpuBackend).parallelRuns > before);
    nt.dispose([...xs, ...ys]);
  }
  return { threads: results.slice(0, 3), js: results[3], split };
}

/** Also checks the work was split across workers (`split`) or, for small products, was not. */
function expectThreadsAgree({ threads, js, split }: { threads: Float32Array[][]; js: Float32Array[]; split: boolean[] }, tol: number, parallel = true): void {
  expect(split).toEqual([parallel, parallel]);
  const [one, ...more] = threads;
  for (const other of more) {
    other.forEach((o, i) => expect(Buffer.from(o.buffer, o.byteOffset, o.byteLength).equals(Buffer.from(one[i].buffer, one[i].byteOffset, one[i].byteLength)), `output ${i}`).toBe(true));
  }
  one.forEach((w, i) => {
    expect(w.some(Number.isNaN)).toBe(false);
    expect(normRelativeError(w, js[i])).toBeLessThan(tol);
  });
}

describe.runIf(wasmFeatures().simd)('wasm kernels on threads: bit-identical to one thread, near the JS reference', () => {
  afterAll(async () => {
    await nt.setBackend('cpu');
  });

  // Above the parallel threshold (M·N·K ≥ 2¹⁸) with ragged tiles, and below it.
  for (const [M, K, N, batch] of [[67, 130, 45, 1], [131, 61, 9, 3], [3, 513, 257, 2], [5, 7, 3, 2]]) {
    for (const [transposeA, transposeB] of [[false, false], [true, true], [false, true]]) {
      it(`matMul and its gradients ${batch}×${M}×${K}×${N}, transposeA ${transposeA}, transposeB ${transposeB}`, async () => {
        const a = rand(batch, ...(transposeA ? [K, M] : [M, K]));
        const b = rand(...(transposeB ? [N, K] : [K, N]));
        expectThreadsAgree(await onThreads([a, b, rand(batch, M, N)], withGrads((x, y) => nt.matMul(x, y, { transposeA, transposeB }))), 1e-5, M * N * K >= PARALLEL_MIN_MADDS);
      });
    }
  }

  for (const activation of ['relu', 'sigmoid'] as const) {
    it(`fusedMatMul with bias, ${activation}, and its gradients`, async () => {
      expectThreadsAgree(await onThreads([rand(97, 131), rand(131, 37), rand(37), rand(97, 37)], withGrads((x, y, bias) => nt.fusedMatMul(x, y, { bias, activation }))), 1e-5);
    });
  }

  const convs: { x: number[]; f: number[]; options: nt.Conv2dOptions }[] = [
    { x: [3, 17, 19, 5], f: [3, 3, 5, 7], options: {} },
    { x: [4, 41, 43, 4], f: [2, 3, 4, 9], options: { strides: 2, padding: 'same' } },
    { x: [5, 13, 11, 3], f: [3, 2, 3, 33], options: { dilations: [2, 1], padding: 'same' } },
    { x: [1, 3, 3, 2], f: [2, 2, 2, 3], options: {} },
    // One input channel: 9 taps, so the filter gradient shares its chunks between threads.
    { x: [16, 27, 29, 1], f: [3, 3, 1, 31], options: {} },
  ];
  for (const { x, f, options } of convs) {
    it(`fusedConv2d and its gradients: x ${JSON.stringify(x)}, filter ${JSON.stringify(f)}, ${JSON.stringify(options)}`, async () => {
      const probe = nt.conv2d(nt.zeros(x), nt.zeros(f), options);
      const outShape = probe.shape;
      probe.dispose();
      expectThreadsAgree(await onThreads([rand(...x), rand(...f), rand(f[3]), rand(...outShape)], withGrads((xs, fs, bias) => nt.fusedConv2d(xs, fs, { ...options, bias, activation: 'relu' }))), 1e-5, x[0] > 1);
    });
  }

  it('maxPool2d and its gradient, split by images', async () => {
    const x = [5, 40, 41, 8];
    const options = { poolSize: 3, strides: 2, padding: 'same' } as const;
    const probe = nt.maxPool2d(nt.zeros(x), options);
    const outShape = probe.shape;
    probe.dispose();
    expectThreadsAgree(await onThreads([rand(...x), rand(...outShape)], withGrads((xs) => nt.maxPool2d(xs, options))), 1e-7);
  });

  it('fused elementwise chains (host functions, broadcast and transposed inputs), split by rows and by columns', async () => {
    const result = await onThreads([rand(3, 130, 97), rand(97), rand(97, 130), rand(70001)], (a, b, c, d) => [
      nt.tanh(nt.add(nt.mul(nt.exp(nt.neg(nt.abs(a))), b), nt.transpose(c, { perm: [1, 0] }))),
      nt.pow(nt.abs(nt.sub(nt.sign(a), nt.relu(b))), nt.sigmoid(a)),
      nt.log(nt.add(nt.square(d), 1)),
    ]);
    expectThreadsAgree(result, 1e-15);
  });

  it('sum and max over an axis, split by outer index', async () => {
    const result = await onThreads([rand(300, 50, 7)], (x) => [nt.sum(x, { axis: 1 }), nt.max(x, { axis: 1 }), nt.sum(x, { axis: 2 }), nt.sum(x, { axis: 0 })]);
    expectThreadsAgree(result, 1e-15);
  });

  it('a small CNN trained with Adam on 2 threads equals 1 thread bit for bit', async () => {
    const n = 64;
    const xs = Float32Array.from(uniform(n * 14 * 14 * 1));
    const ys = Int32Array.from({ length: n }, (_, i) => (i * 7) % 5);
    const runs: { losses: number[]; weights: Float32Array[] }[] = [];
    for (const threads of [1, 2]) {
      await nt.setBackend('cpu', { threads });
      const model = nt.sequential({
        layers: [
          nt.layers.conv2d({ inputShape: [14, 14, 1], filters: 16, kernelSize: 3, activation: 'relu', seed: 3 }),
          nt.layers.maxPooling2d({ poolSize: 2 }),
          nt.layers.conv2d({ filters: 24, kernelSize: 3, padding: 'same', activation: 'relu', seed: 4 }),
          nt.layers.flatten(),
          nt.layers.dense({ units: 32, activation: 'relu', seed: 6 }), // 37,632 weights: Adam's update splits
          nt.layers.dense({ units: 5, activation: 'softmax', seed: 5 }),
        ],
      });
      model.compile({ optimizer: nt.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy' });
      const x = nt.tensor(xs, [n, 14, 14, 1]);
      const y = nt.tensor(ys, [n], 'int32');
      const history = await model.fit(x, y, { epochs: 3, batchSize: 32, shuffle: false, verbose: 0 });
      const weights = (await Promise.all(model.getWeights().map((w) => w.data()))) as Float32Array[];
      runs.push({ losses: history.history.loss as number[], weights });
      nt.dispose([x, y]);
      model.dispose();
    }
    expect(runs[1].losses).toEqual(runs[0].losses);
    runs[1].weights.forEach((w, i) => expect(Buffer.from(w.buffer, w.byteOffset, w.byteLength).equals(Buffer.from(runs[0].weights[i].buffer, runs[0].weights[i].byteOffset, runs[0].weights[i].byteLength))).toBe(true));
  });
});

describe.runIf(wasmFeatures().simd)('cpu threads: options and lifetime', () => {
  it('validates threads, naming the option', async () => {
    for (const bad of [0, -1, 1.5, NaN, '2', 1000]) {
      await expect(nt.setBackend('cpu', { threads: bad as number })).rejects.toThrow(/threads must be an integer from 1 to 256/);
    }
  });

  it('defaults to the core count, says why, and JS kernels ignore threads', async () => {
    const os = await import('node:os');
    await nt.setBackend('cpu');
    const expected = Math.min(8, os.availableParallelism());
    expect(nt.cpuThreads().threads).toBe(expected);
    expect(nt.cpuThreads().note).toMatch(/core/);
    await nt.setBackend('cpu', { threads: 3 });
    expect(nt.cpuThreads()).toEqual({ threads: 3, note: '3 threads: set by the threads option' });
    await nt.setBackend('cpu', { kernels: 'js', threads: 4 });
    expect(nt.cpuThreads().threads).toBe(1);
    expect(nt.cpuThreads().note).toMatch(/JS reference/);
    await nt.setBackend('cpu');
  });

  it('a page that is not cross-origin isolated runs one thread and says why', async () => {
    const g = globalThis as { crossOriginIsolated?: boolean };
    g.crossOriginIsolated = false;
    try {
      await nt.setBackend('cpu', { threads: 3 });
      expect(nt.cpuThreads().threads).toBe(1);
      expect(nt.cpuThreads().note).toMatch(/not cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
      const t = nt.matMul(nt.ones([2, 3]), nt.ones([3, 2]));
      expect(Array.from(await t.data())).toEqual([3, 3, 3, 3]);
    } finally {
      delete g.crossOriginIsolated;
    }
    await nt.setBackend('cpu', { threads: 2 });
    expect(nt.cpuThreads().threads).toBe(2);
  });

  it('setting another backend terminates the workers; the tensors stay readable', async () => {
    await nt.setBackend('cpu', { threads: 2 });
    const backend = engine.backend as CpuBackend;
    const t = nt.tensor([1, 2, 3]);
    await nt.setBackend('cpu', { kernels: 'js' });
    expect(backend.threads).toBe(1);
    expect(backend.threadsNote).toMatch(/another backend/);
    expect(Array.from(await t.data())).toEqual([1, 2, 3]);
    t.dispose();
    await nt.setBackend('cpu', { threads: 2 });
    expect(backend.threads).toBe(2);
    expect(engine.backend).toBe(backend);
  });
});
