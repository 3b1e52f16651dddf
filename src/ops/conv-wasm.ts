// conv2d's, fusedConv2d's and both backprops' WebAssembly kernels: im2col rows (each output pixel's
// window, zeros outside the image) gathered into wasm scratch a band at a time, then multiplied by
// the filter with the shared wasm GEMM core, then matMul's epilogue for fusedConv2d.
import type { KernelCall } from '../backend/kernel.js';
import { runGemm } from '../backend/cpu/wasm/gemm-run.js';
import { taps } from './conv-cpu.js';
import type { ConvGeometry } from './conv.js';
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

/** Writes the im2col rows of pixels [p0, p1) (each kh·kw·kc floats, tap-major) at dst (float index). */
function im2col(s: Gather, f32: Float32Array, a: number, p0: number, p1: number, dst: number): void {
  const { g, kc } = s;
  const ys = new Int32Array(g.kh);
  const xs = new Int32Array(g.kw);
  const width = g.kh * g.kw * kc;
  for (let p = p0, o = dst; p < p1; p++, o += width) {
    const x = p % s.rowW;
    const y = Math.floor(p / s.rowW) % s.rowH;
    const img = Math.floor(p / (s.rowW * s.rowH));
    taps(s.forward, y, g.kh, g.sh, g.dh, g.pt, s.aH, ys);
    taps(s.forward, x, g.kw, g.sw, g.dw, g.pl, s.aW, xs);
    for (let ky = 0, t = o; ky < g.kh; ky++) {
      for (let kx = 0; kx < g.kw; kx++, t += kc) {
        if (ys[ky] < 0 || xs[kx] < 0) {
          f32.fill(0, t, t + kc);
        } else {
          const from = a / 4 + ((img * s.aH + ys[ky]) * s.aW + xs[kx]) * kc;
          f32.copyWithin(t, from, from + kc);
        }
      }
    }
  }
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
    for (let p0 = 0; p0 < P; p0 += band) {
      const rows = Math.min(band, P - p0);
      im2col(s, rt.heap.f32(), a, p0, p0 + rows, cols / 4);
      runGemm(rt, { ptr: cols, rowStride: width, colStride: 1 }, { ptr: b, rowStride: n, colStride: 1 }, out + 4 * p0 * n, rows, n, width);
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
    const cols = rt.scratch(band * width * 4, 1);
    for (let sp = 0; sp < splits; sp++) {
      const part = out + 4 * sp * width * g.outC;
      const [q0, q1] = [sp * chunk, Math.min(P, (sp + 1) * chunk)];
      if (q1 <= q0) rt.heap.f32().fill(0, part / 4, part / 4 + width * g.outC);
      for (let b0 = q0; b0 < q1; b0 += band) {
        const rows = Math.min(band, q1 - b0);
        im2col(s, rt.heap.f32(), x, b0, b0 + rows, cols / 4);
        // A = im2colᵀ [width × rows]: element [i][k] is cols[k·width + i].
        runGemm(rt, { ptr: cols, rowStride: 1, colStride: width }, { ptr: dy + 4 * b0 * g.outC, rowStride: g.outC, colStride: 1 }, part, width, g.outC, rows, b0 > q0);
      }
    }
  };
}
