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

  it('splits products above the threshold only', () => {
    expect(PARALLEL_MIN_MADDS).toBeLessThan(131 * 260 * 67);
  });
});
