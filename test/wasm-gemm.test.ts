// The wasm GEMM core on its own: C = A·B over strided operands in the heap (all four transpose
// layouts), against a float64 reference, on odd sizes that leave ragged micro-tiles and on sizes
// that span several k and m blocks.
import { describe, expect, it } from 'vitest';
import { runGemm } from '../src/backend/cpu/wasm/gemm-run.js';
import { WasmRuntime } from '../src/backend/cpu/wasm/runtime.js';
import { wasmFeatures } from '../src/backend/cpu/wasm/features.js';
import { gemmBoundRatio } from './helpers/kernels.js';
import { uniform } from './helpers/random.js';

const SHAPES: [number, number, number][] = [
  [1, 1, 1], [3, 5, 7], [4, 8, 16], [5, 9, 3], [13, 17, 1], [33, 1, 29], [7, 300, 11], [131, 260, 67], [0, 3, 2], [2, 0, 3], [3, 2, 0],
];

describe.runIf(wasmFeatures().simd)('wasm GEMM core', () => {
  const rt = new WasmRuntime();
  for (const [M, K, N] of SHAPES) {
    for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]]) {
      it(`${M}×${K} · ${K}×${N}, transposeA ${tA}, transposeB ${tB}`, () => {
        const A = uniform(M * K);
        const B = uniform(K * N);
        const aPtr = rt.heap.alloc(M * K * 4);
        const bPtr = rt.heap.alloc(K * N * 4);
        // Guard cells around C catch writes past its end.
        const cPtr = rt.heap.alloc((M * N + 8) * 4);
        rt.heap.f32().set(A, aPtr / 4);
        rt.heap.f32().set(B, bPtr / 4);
        rt.heap.f32().fill(NaN, cPtr / 4, cPtr / 4 + M * N + 8);
        // A stored [M,K] or (transposeA) [K,M]; B [K,N] or [N,K].
        const a = tA ? { ptr: aPtr, rowStride: 1, colStride: M } : { ptr: aPtr, rowStride: K, colStride: 1 };
        const b = tB ? { ptr: bPtr, rowStride: 1, colStride: K } : { ptr: bPtr, rowStride: N, colStride: 1 };
        runGemm(rt, a, b, cPtr, M, N, K);
        const got = rt.heap.f32().slice(cPtr / 4, cPtr / 4 + M * N + 8);
        // Each output against the float32 summation bound (helpers/kernels.ts).
        const worst = gemmBoundRatio(A, B, got, M, K, N, tA, tB);
        expect(worst).toBeLessThanOrEqual(1);
        for (let g = M * N; g < M * N + 8; g++) expect(Number.isNaN(got[g])).toBe(true);
        rt.heap.release(aPtr, M * K * 4);
        rt.heap.release(bPtr, K * N * 4);
        rt.heap.release(cPtr, (M * N + 8) * 4);
      });
    }
  }
});
