// Drives the wasm GEMM core for one product C = A·B over strided operands in the heap: blocks of
// KC along k (a packed B block stays in L2) and MC along m (a packed A block stays in L2 while
// each 8-column B panel is reused from L1), packing each block once, as GotoBLAS does.
// With threads, C's rows are split into contiguous ranges (whole micro-tiles), each thread running
// the same blocked loop on its rows with its own packed blocks: every output element sums its
// products in the same order as on one thread, so the results are bit-identical.
import { GEMM_KEY, GEMM_MR, GEMM_NR, gemmModule } from './gemm.js';
import { call, type Calls, type WasmRuntime } from './runtime.js';

/** The GEMM module's functions' indices in calls (gemmModule's order). */
const GF = { pack: 0, tiles: 1, epilogue: 2, copy: 3 } as const;

/** The GEMM module's id for calls (see WasmRuntime.threadModule). */
export function gemmId(rt: WasmRuntime): number {
  return rt.threadModule(GEMM_KEY, gemmModule);
}

/** Depth of one k block: KC·NR floats of a B panel (8 KiB) sit in L1 beside A's broadcasts. */
const KC = 256;
/** Rows of one m block: MC·KC floats of packed A (128 KiB) sit in L2. */
const MC = 128;
/**
 * Products of fewer multiply-adds (M·N·K) than this run on the calling thread: waking the
 * workers costs tens of microseconds, what a 64³ product takes on one thread.
 */
export const PARALLEL_MIN_MADDS = 1 << 18;

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
  const ranges = rowRanges(M, gemmThreads(rt, M, N, K));
  const per = scratchPerThread(ranges, M, N, K);
  const scratch = rt.scratch(per * ranges.length);
  const id = gemmId(rt);
  rt.run(ranges.map(([r0, r1], t) => {
    const calls: Calls = [];
    gemmCalls(calls, id, { ...a, ptr: a.ptr + 4 * r0 * a.rowStride }, b, c + 4 * r0 * N, Math.min(r1, M) - r0, N, K, accumulate, scratch + t * per);
    return calls;
  }));
}

/** Scratch bytes for each of `ranges`' threads (the most any needs, whole cache lines). */
export function scratchPerThread(ranges: readonly [number, number][], M: number, N: number, K: number): number {
  const most = Math.max(...ranges.map(([r0, r1]) => gemmScratchBytes(Math.min(r1, M) - r0, N, K)));
  return Math.ceil(most / 64) * 64;
}

/** Threads worth running a product on: 1 below PARALLEL_MIN_MADDS, at most one per micro-tile row. */
export function gemmThreads(rt: WasmRuntime, M: number, N: number, K: number): number {
  if (rt.threads === 1 || M * N * K < PARALLEL_MIN_MADDS) return 1;
  return Math.max(1, Math.min(rt.threads, Math.ceil(M / GEMM_MR)));
}

/**
 * `threads` contiguous ranges [r0, r1) of M rows, each a whole number of micro-tiles (the last
 * may end past M), as even as whole micro-tiles allow.
 */
export function rowRanges(M: number, threads: number): [number, number][] {
  const tiles = Math.ceil(M / GEMM_MR);
  const out: [number, number][] = [];
  for (let t = 0; t < threads; t++) {
    const t0 = tiles - Math.floor(((threads - t) * tiles) / threads);
    const t1 = tiles - Math.floor(((threads - t - 1) * tiles) / threads);
    out.push([t0 * GEMM_MR, t1 * GEMM_MR]);
  }
  return out;
}

/** Scratch bytes `gemmCalls` needs for an M×N×K product. */
export function gemmScratchBytes(M: number, N: number, K: number): number {
  const kc = Math.min(K, KC);
  const Np = Math.ceil(N / GEMM_NR) * GEMM_NR;
  const Mp = Math.ceil(M / GEMM_MR) * GEMM_MR;
  const mc = Math.min(Mp, MC);
  const padded = Mp !== M || Np !== N;
  return (mc * kc + kc * Np + (padded ? Mp * Np : 0)) * 4;
}

/**
 * Appends to `calls` the wasm calls of C = A·B (C += A·B with `accumulate`) on one thread (`id`:
 * the GEMM module's, from gemmId), using
 * gemmScratchBytes(M, N, K) bytes of scratch at `scratch`. M, N, K > 0.
 */
export function gemmCalls(calls: Calls, id: number, a: StridedMatrix, b: StridedMatrix, c: number, M: number, N: number, K: number, accumulate: boolean, scratch: number): void {
  const kc = Math.min(K, KC);
  const nPanels = Math.ceil(N / GEMM_NR);
  const Np = nPanels * GEMM_NR;
  const Mp = Math.ceil(M / GEMM_MR) * GEMM_MR;
  const mc = Math.min(Mp, MC);
  // Ragged edges are computed into a padded C (whole micro-tiles), then copied out by rows.
  const padded = Mp !== M || Np !== N;
  const ap = scratch;
  const bp = ap + mc * kc * 4;
  const cp = padded ? bp + kc * Np * 4 : c;
  const ldc = (padded ? Np : N) * 4;
  if (padded && accumulate) call(calls, id, GF.copy, c, N * 4, cp, Np * 4, M, N * 4);
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kb = Math.min(KC, K - k0);
    call(calls, id, GF.pack, b.ptr + 4 * k0 * b.rowStride, 4 * b.rowStride, 4 * b.colStride, kb, N, bp, GEMM_NR);
    for (let m0 = 0; m0 < M; m0 += mc) {
      const mb = Math.min(mc, M - m0);
      // A's block is packed as its transpose: kb rows (k) of mb columns (m), in MR-wide panels.
      call(calls, id, GF.pack, a.ptr + 4 * (k0 * a.colStride + m0 * a.rowStride), 4 * a.colStride, 4 * a.rowStride, kb, mb, ap, GEMM_MR);
      call(calls, id, GF.tiles, ap, bp, cp + m0 * ldc, ldc, Math.ceil(mb / GEMM_MR), nPanels, kb, accumulate || k0 > 0 ? 1 : 0);
    }
  }
  if (padded) call(calls, id, GF.copy, cp, Np * 4, c, N * 4, M, N * 4);
}

/**
 * The fused ops' epilogue over `rows` rows of n floats at byte address c: + bias (byte address,
 * 0 for none), then relu where `relu`. Other activations are applied by the JS epilogue.
 */
export function runBiasRelu(rt: WasmRuntime, c: number, bias: number, rows: number, n: number, relu: boolean): void {
  const calls: Calls = [];
  call(calls, gemmId(rt), GF.epilogue, c, bias, rows, n, relu ? 1 : 0);
  rt.runHere(calls);
}
