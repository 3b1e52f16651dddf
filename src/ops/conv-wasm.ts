// conv2d's, fusedConv2d's and both backprops' WebAssembly kernels: im2col rows (each output pixel's
// window, zeros outside the image) gathered into wasm scratch a band at a time, then multiplied by
// the filter with the shared wasm GEMM core, then matMul's epilogue for fusedConv2d.
// With threads, a band's pixels are split into ranges, each thread gathering and multiplying its
// own rows; the filter gradient gathers in parallel, then splits the GEMM's rows (the taps).
import type { KernelCall } from '../backend/kernel.js';
import { gemmCalls, gemmId, gemmScratchBytes, gemmThreads, rowRanges, runGemm, scratchPerThread } from '../backend/cpu/wasm/gemm-run.js';
import { call, type Calls, type WasmRuntime } from '../backend/cpu/wasm/runtime.js';
import { im2colFunction } from './conv-im2col-wasm.js';
import type { ConvGeometry } from './conv-geometry.js';
import { applyEpilogue, type WasmEpilogue } from './matmul-wasm.js';

/** Most floats of im2col rows gathered at once (4 MiB): big enough for long GEMMs, small enough for the cache hierarchy. */
const BAND_FLOATS = 1 << 20;

/** A gather's geometry: rows are its output pixels, each reading kh·kw taps of kc channels of `a`. */
interface Gather {
  forward: boolean;
  g: ConvGeometry;
  /** Pixels of the gather's output (and of its input `a`) per image: height, width. */
  rowH: number;
  rowW: number;
  aH: number;
  aW: number;
  /** Channels per tap in `a`. */
  kc: number;
}

function gatherOf(forward: boolean, g: ConvGeometry): Gather {
  return forward
    ? { forward, g, rowH: g.outH, rowW: g.outW, aH: g.inH, aW: g.inW, kc: g.inC }
    : { forward, g, rowH: g.inH, rowW: g.inW, aH: g.outH, aW: g.outW, kc: g.outC };
}

/** The im2col module's id for calls (one module per direction). */
function im2colId(rt: WasmRuntime, forward: boolean): number {
  return rt.threadModule(`im2col:${forward ? 'forward' : 'backprop'}`, () => [im2colFunction(forward)]);
}

/** Appends the call (to im2col module `id`) that writes the im2col rows of pixels [p0, p1) (each kh·kw·kc floats, tap-major) at byte address dst. */
function im2col(calls: Calls, id: number, s: Gather, a: number, p0: number, p1: number, dst: number): void {
  const { g } = s;
  if (p1 <= p0) return;
  call(calls, id, 0, a, dst, p0, p1, s.rowW, s.rowH, s.aW, s.aH, s.kc, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl);
}

/** Pixel ranges [r0, r1) of a band of `rows` (whole micro-tiles, clipped to the band) for `threads` threads. */
function pixelRanges(rows: number, threads: number): [number, number][] {
  return rowRanges(rows, threads).map(([r0, r1]) => [r0, Math.min(r1, rows)]);
}

/** Pixels per band of im2col rows of `width` floats. */
function bandRows(width: number): number {
  return Math.max(4, Math.floor(BAND_FLOATS / Math.max(width, 1)));
}

/**
 * The `wasm` member of conv2d / fusedConv2d (forward) or conv2dBackpropInput (a = dy, b = the
 * filter as [kh,kw,outC,inC]): out[p] = im2col(a)[p] · b, by bands of pixels, then the epilogue.
 */
export function gatherWasm(forward: boolean, g: ConvGeometry, epi: WasmEpilogue | null): NonNullable<KernelCall['wasm']> {
  const s = gatherOf(forward, g);
  const n = forward ? g.outC : g.inC;
  const width = g.kh * g.kw * s.kc;
  const P = g.batch * s.rowH * s.rowW;
  return (rt, [a, b, bias], [out]) => {
    const band = Math.min(P, bandRows(width));
    const cols = rt.scratch(band * width * 4, 1);
    const [gather, gemm] = [im2colId(rt, forward), gemmId(rt)];
    for (let p0 = 0; p0 < P; p0 += band) {
      const rows = Math.min(band, P - p0);
      const ranges = pixelRanges(rows, width > 0 ? gemmThreads(rt, rows, n, width) : 1);
      const per = width > 0 && n > 0 ? scratchPerThread(ranges, rows, n, width) : 0;
      const scratch = rt.scratch(per * ranges.length);
      // Each thread gathers its pixels' rows and multiplies them by the filter.
      rt.run(ranges.map(([r0, r1], t) => {
        const calls: Calls = [];
        im2col(calls, gather, s, a, p0 + r0, p0 + r1, cols + 4 * r0 * width);
        if (r1 > r0 && n > 0 && width > 0) {
          gemmCalls(calls, gemm, { ptr: cols + 4 * r0 * width, rowStride: width, colStride: 1 }, { ptr: b, rowStride: n, colStride: 1 }, out + 4 * (p0 + r0) * n, r1 - r0, n, width, false, scratch + t * per);
        }
        return calls;
      }));
      if (width === 0) rt.heap.f32().fill(0, (out / 4) + p0 * n, out / 4 + (p0 + rows) * n);
    }
    if (epi) applyEpilogue(rt, epi, bias, out, P, n);
  };
}

/**
 * The `wasm` member of conv2dBackpropFilter: partial s of [splits, kh·kw·inC, outC] is
 * Σ_{q in chunk s} im2col(x)[q]ᵀ · dy[q], the GEMM's k running over the chunk's pixels by bands.
 */
export function filterWasm(g: ConvGeometry, chunk: number, splits: number): NonNullable<KernelCall['wasm']> {
  const s = gatherOf(true, g);
  const width = g.kh * g.kw * g.inC;
  const P = g.batch * g.outH * g.outW;
  return (rt, [x, dy], [out]) => {
    const band = Math.min(Math.max(chunk, 1), bandRows(width));
    const gather = im2colId(rt, true);
    const chunkThreads = Math.min(splits, gemmThreads(rt, width, g.outC, P));
    if (chunkThreads > 1 && width > 0 && g.outC > 0) {
      filterByChunks(rt, { s, x, dy, out, width, P, chunk, splits, band, gather, threads: chunkThreads });
      return;
    }
    const cols = rt.scratch(band * width * 4, 1);
    for (let sp = 0; sp < splits; sp++) {
      const part = out + 4 * sp * width * g.outC;
      const [q0, q1] = [sp * chunk, Math.min(P, (sp + 1) * chunk)];
      if (q1 <= q0) rt.heap.f32().fill(0, part / 4, part / 4 + width * g.outC);
      for (let b0 = q0; b0 < q1; b0 += band) {
        const rows = Math.min(band, q1 - b0);
        // The band's rows gathered by all threads (by pixel ranges), then the product split by taps.
        rt.run(pixelRanges(rows, gemmThreads(rt, width, g.outC, rows)).map(([r0, r1]) => {
          const calls: Calls = [];
          im2col(calls, gather, s, x, b0 + r0, b0 + r1, cols + 4 * r0 * width);
          return calls;
        }));
        // A = im2colᵀ [width × rows]: element [i][k] is cols[k·width + i].
        runGemm(rt, { ptr: cols, rowStride: 1, colStride: width }, { ptr: dy + 4 * b0 * g.outC, rowStride: g.outC, colStride: 1 }, part, width, g.outC, rows, b0 > q0);
      }
    }
  };
}

/** What `filterByChunks` works on. */
interface FilterJob {
  s: Gather;
  x: number;
  dy: number;
  out: number;
  width: number;
  P: number;
  chunk: number;
  splits: number;
  band: number;
  gather: number;
  threads: number;
}

/**
 * The filter gradient with its chunks shared out between threads: each thread owns whole chunks
 * (their partials, its own im2col band and packing scratch) and runs them as one thread would, so
 * every partial is summed in the same order as on one thread. Splitting each band's product by
 * taps instead leaves little to share where there are few taps (9 for a one-channel 3×3 conv).
 */
function filterByChunks(rt: WasmRuntime, j: FilterJob): void {
  const { s, width, band } = j;
  const outC = s.g.outC;
  const colsBytes = Math.ceil((band * width * 4) / 64) * 64;
  const gemmBytes = Math.ceil(gemmScratchBytes(width, outC, band) / 64) * 64;
  const cols = rt.scratch(colsBytes * j.threads, 1);
  const packing = rt.scratch(gemmBytes * j.threads);
  const gemm = gemmId(rt);
  // Chunks past the last pixel (splits that do not divide P evenly) have zero partials.
  const empty: number[] = [];
  const lists = rowRangesOfChunks(j.splits, j.threads).map(([c0, c1], t) => {
    const calls: Calls = [];
    const myCols = cols + t * colsBytes;
    for (let sp = c0; sp < c1; sp++) {
      const part = j.out + 4 * sp * width * outC;
      const [q0, q1] = [sp * j.chunk, Math.min(j.P, (sp + 1) * j.chunk)];
      if (q1 <= q0) empty.push(part);
      for (let b0 = q0; b0 < q1; b0 += band) {
        const rows = Math.min(band, q1 - b0);
        im2col(calls, j.gather, s, j.x, b0, b0 + rows, myCols);
        gemmCalls(calls, gemm, { ptr: myCols, rowStride: 1, colStride: width }, { ptr: j.dy + 4 * b0 * outC, rowStride: outC, colStride: 1 }, part, width, outC, rows, b0 > q0, packing + t * gemmBytes);
      }
    }
    return calls;
  });
  for (const part of empty) rt.heap.f32().fill(0, part / 4, part / 4 + width * outC);
  rt.run(lists);
}

/** `threads` contiguous ranges of `n` chunks, as even as whole chunks allow. */
function rowRangesOfChunks(n: number, threads: number): [number, number][] {
  return Array.from({ length: threads }, (_, t) => [Math.floor((t * n) / threads), Math.floor(((t + 1) * n) / threads)] as [number, number]);
}
