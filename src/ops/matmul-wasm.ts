// matMul's and fusedMatMul's WebAssembly kernel: per batch, the shared wasm GEMM core over the
// operands in place in the heap (transposes are strides; packing makes them free), then the
// bias-and-activation epilogue (shared with conv2d) on the batch's block while it is in cache.
import type { KernelCall } from '../backend/kernel.js';
import { runBiasRelu, runGemm } from '../backend/cpu/wasm/gemm-run.js';
import type { WasmRuntime } from '../backend/cpu/wasm/runtime.js';
import { cpuEpilogue, type FusedActivation } from './epilogue.js';

/** One product's sizes and element strides: A[i][k] at i·aRow + k·aK, B[k][j] at k·bK + j·bCol. */
export interface WasmMatMulShape {
  readonly M: number;
  readonly K: number;
  readonly N: number;
  readonly batches: number;
  readonly aRow: number;
  readonly aK: number;
  readonly bK: number;
  readonly bCol: number;
}

/**
 * The `wasm` member of a matMul KernelCall. `offsets(z)` gives batch z's matrix offsets in a and
 * b (elements); `epilogue` is fusedMatMul's bias and activation (null for matMul).
 */
export function matMulWasm(
  s: WasmMatMulShape,
  offsets: (z: number) => [number, number],
  epilogue: WasmEpilogue | null,
): NonNullable<KernelCall['wasm']> {
  const { M, K, N } = s;
  return (rt, [a, b, bias], [out]) => {
    for (let z = 0; z < s.batches; z++) {
      const [aOff, bOff] = offsets(z);
      const c = out + 4 * z * M * N;
      runGemm(rt, { ptr: a + 4 * aOff, rowStride: s.aRow, colStride: s.aK }, { ptr: b + 4 * bOff, rowStride: s.bK, colStride: s.bCol }, c, M, N, K);
      if (epilogue) applyEpilogue(rt, epilogue, bias, c, M, N);
    }
  };
}

/** A fused op's bias and activation. */
export interface WasmEpilogue {
  readonly activation: FusedActivation;
  readonly hasBias: boolean;
}

/**
 * Applies `epi` in place to `rows` rows of n floats at byte address `out` (bias at byte address
 * `bias`): in wasm for linear and relu, else with the JS kernel's epilogue (exp-based activations).
 */
export function applyEpilogue(rt: WasmRuntime, epi: WasmEpilogue, bias: number, out: number, rows: number, n: number): void {
  if (epi.activation === 'linear' || epi.activation === 'relu') {
    runBiasRelu(rt, out, epi.hasBias ? bias : 0, rows, n, epi.activation === 'relu');
    return;
  }
  // Views only now: a kernel's scratch may have grown (and so detached) the memory.
  const f32 = rt.heap.f32();
  cpuEpilogue(epi.activation, epi.hasBias ? f32.subarray(bias / 4, bias / 4 + n) : null)(f32, out / 4, rows, n);
}
