// Drives the wasm GEMM core for one product C = A·B over strided operands in the heap: blocks of
// KC along k (a packed B block stays in L2) and MC along m (a packed A block stays in L2 while
// each 8-column B panel is reused from L1), packing each block once, as GotoBLAS does.
import { GEMM_KEY, GEMM_MR, GEMM_NR, gemmModule } from './gemm.js';
import type { WasmRuntime } from './runtime.js';

/** Depth of one k block: KC·NR floats of a B panel (8 KiB) sit in L1 beside A's broadcasts. */
const KC = 256;
/** Rows of one m block: MC·KC floats of packed A (128 KiB) sit in L2. */
const MC = 128;

/** A matrix in the heap: element [r][c] at byte ptr + 4·(r·rowStride + c·colStride). */
export interface StridedMatrix {
  readonly ptr: number;
  readonly rowStride: number;
  readonly colStride: number;
}

/**
 * C = A·B (or C += A·B with `accumulate`) with A [M×K] and B [K×N] strided (transposes are
 * strides), C row-major [M×N] at byte address `c`. Sums in f32, in register accumulators.
 */
export function runGemm(rt: WasmRuntime, a: StridedMatrix, b: StridedMatrix, c: number, M: number, N: number, K: number, accumulate = false): void {
  if (M === 0 || N === 0 || (K === 0 && accumulate)) return;
  if (K === 0) {
    rt.heap.f32().fill(0, c / 4, c / 4 + M * N);
    return;
  }
  const { pack, tiles } = rt.kernel(GEMM_KEY, gemmModule) as Record<'pack' | 'tiles', (...args: number[]) => void>;
  const kc = Math.min(K, KC);
  const nPanels = Math.ceil(N / GEMM_NR);
  const Np = nPanels * GEMM_NR;
  const Mp = Math.ceil(M / GEMM_MR) * GEMM_MR;
  const mc = Math.min(Mp, MC);
  // Ragged edges are computed into a padded C (whole micro-tiles), then copied out by rows.
  const padded = Mp !== M || Np !== N;
  const scratch = rt.scratch((mc * kc + kc * Np + (padded ? Mp * Np : 0)) * 4);
  const ap = scratch;
  const bp = ap + mc * kc * 4;
  const cp = padded ? bp + kc * Np * 4 : c;
  const ldc = (padded ? Np : N) * 4;
  if (padded && accumulate) copyRows(rt, c, N, cp, Np, M, N);
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kb = Math.min(KC, K - k0);
    pack(b.ptr + 4 * k0 * b.rowStride, 4 * b.rowStride, 4 * b.colStride, kb, N, bp, GEMM_NR);
    for (let m0 = 0; m0 < M; m0 += mc) {
      const mb = Math.min(mc, M - m0);
      // A's block is packed as its transpose: kb rows (k) of mb columns (m), in MR-wide panels.
      pack(a.ptr + 4 * (k0 * a.colStride + m0 * a.rowStride), 4 * a.colStride, 4 * a.rowStride, kb, mb, ap, GEMM_MR);
      tiles(ap, bp, cp + m0 * ldc, ldc, Math.ceil(mb / GEMM_MR), nPanels, kb, accumulate || k0 > 0 ? 1 : 0);
    }
  }
  if (padded) copyRows(rt, cp, Np, c, N, M, N);
}

/** Copies `rows` rows of `width` floats between row-major matrices whose rows are `srcRow` and `dstRow` floats apart. */
function copyRows(rt: WasmRuntime, src: number, srcRow: number, dst: number, dstRow: number, rows: number, width: number): void {
  const f32 = rt.heap.f32();
  for (let i = 0; i < rows; i++) f32.copyWithin(dst / 4 + i * dstRow, src / 4 + i * srcRow, src / 4 + i * srcRow + width);
}

/**
 * The fused ops' epilogue over `rows` rows of n floats at byte address c: + bias (byte address,
 * 0 for none), then relu where `relu`. Other activations are applied by the JS epilogue.
 */
export function runBiasRelu(rt: WasmRuntime, c: number, bias: number, rows: number, n: number, relu: boolean): void {
  const { epilogue } = rt.kernel(GEMM_KEY, gemmModule) as Record<'epilogue', (...args: number[]) => void>;
  epilogue(c, bias, rows, n, relu ? 1 : 0);
}
