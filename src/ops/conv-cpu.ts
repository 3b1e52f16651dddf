// The CPU kernels of conv2d and its backprops: plain loops with the channels innermost (contiguous
// in NHWC and in the filter), float64 accumulators, index math hoisted out of the inner loops.
// They follow the WGSL kernels' formulation (conv-wgsl.ts), so both backends sum the same terms.
import type { ConvGeometry } from './conv-geometry.js';

/** acc[j] += Σ_i a[ai + i] · b[bi + i·n + j] for i < k, j < n; four rows of b per pass to cut acc traffic. */
function accumulateRows(acc: Float64Array, a: Float32Array, ai: number, b: Float32Array, bi: number, k: number, n: number): void {
  let i = 0;
  for (; i + 4 <= k; i += 4) {
    const a0 = a[ai + i];
    const a1 = a[ai + i + 1];
    const a2 = a[ai + i + 2];
    const a3 = a[ai + i + 3];
    const r0 = bi + i * n;
    const r1 = r0 + n;
    const r2 = r1 + n;
    const r3 = r2 + n;
    for (let j = 0; j < n; j++) acc[j] += a0 * b[r0 + j] + a1 * b[r1 + j] + a2 * b[r2 + j] + a3 * b[r3 + j];
  }
  for (; i < k; i++) {
    const a0 = a[ai + i];
    const r0 = bi + i * n;
    for (let j = 0; j < n; j++) acc[j] += a0 * b[r0 + j];
  }
}

/** acc[ri + i·n + j] += a[ai + i] · b[bi + j] for i < k, j < n (a rank-1 update); four rows per pass share b's loads. */
function addOuter(acc: Float64Array, ri: number, a: Float32Array, ai: number, k: number, b: Float32Array, bi: number, n: number): void {
  let i = 0;
  for (; i + 4 <= k; i += 4) {
    const a0 = a[ai + i];
    const a1 = a[ai + i + 1];
    const a2 = a[ai + i + 2];
    const a3 = a[ai + i + 3];
    const r0 = ri + i * n;
    const r1 = r0 + n;
    const r2 = r1 + n;
    const r3 = r2 + n;
    for (let j = 0; j < n; j++) {
      const v = b[bi + j];
      acc[r0 + j] += a0 * v;
      acc[r1 + j] += a1 * v;
      acc[r2 + j] += a2 * v;
      acc[r3 + j] += a3 * v;
    }
  }
  for (; i < k; i++) {
    const a0 = a[ai + i];
    const r0 = ri + i * n;
    for (let j = 0; j < n; j++) acc[r0 + j] += a0 * b[bi + j];
  }
}

/**
 * The source coordinate of each of the k taps along one axis for output coordinate y, or −1.
 * forward: y·s − pad + i·d inside [0, size). backprop: (y + pad − i·d)/s where that divides exactly.
 */
function taps(forward: boolean, y: number, k: number, s: number, d: number, pad: number, size: number, into: Int32Array): void {
  for (let i = 0; i < k; i++) {
    const t = forward ? y * s - pad + i * d : y + pad - i * d;
    const v = forward ? t : t / s;
    into[i] = t >= 0 && (forward || t % s === 0) && v < size ? v : -1;
  }
}

/** Applied to each output pixel's row of n channels at out[offset] as it is stored (fusedConv2d's bias and activation). */
type CpuEpilogue = (out: Float32Array, offset: number, rows: number, n: number) => void;

/**
 * conv2d (forward: a = x, b = filter) or conv2dBackpropInput (a = dy, b = the filter as [kh,kw,outC,inC]):
 * the same gather-GEMM as the WGSL, pixel by pixel, with an optional epilogue per stored pixel.
 */
export function gatherGemmCpu(forward: boolean, g: ConvGeometry, a: Float32Array, b: Float32Array, out: Float32Array, epilogue: CpuEpilogue | null = null): void {
  const { batch, kh, kw, sh, sw, dh, dw, pt, pl } = g;
  const [rowH, rowW, aH, aW, kc, n] = forward ? [g.outH, g.outW, g.inH, g.inW, g.inC, g.outC] : [g.inH, g.inW, g.outH, g.outW, g.outC, g.inC];
  const acc = new Float64Array(n);
  const ys = new Int32Array(kh);
  const xs = new Int32Array(kw);
  let o = 0;
  for (let img = 0; img < batch; img++) {
    for (let y = 0; y < rowH; y++) {
      taps(forward, y, kh, sh, dh, pt, aH, ys);
      for (let x = 0; x < rowW; x++, o += n) {
        taps(forward, x, kw, sw, dw, pl, aW, xs);
        acc.fill(0);
        for (let ky = 0; ky < kh; ky++) {
          if (ys[ky] < 0) continue;
          const row = (img * aH + ys[ky]) * aW;
          for (let kx = 0; kx < kw; kx++) {
            if (xs[kx] >= 0) accumulateRows(acc, a, (row + xs[kx]) * kc, b, (ky * kw + kx) * kc * n, kc, n);
          }
        }
        for (let j = 0; j < n; j++) out[o + j] = acc[j];
        epilogue?.(out, o, 1, n);
      }
    }
  }
}

/** conv2dBackpropFilter partials [splits, kh, kw, inC, outC]: for each chunk s of output pixels q, Σ_q x-patch(q)ᵀ · dy[q]. */
export function filterGemmCpu(g: ConvGeometry, chunk: number, splits: number, x: Float32Array, dy: Float32Array, out: Float32Array): void {
  const { inH, inW, inC, kh, kw, outC, outH, outW, sh, sw, dh, dw, pt, pl } = g;
  const P = g.batch * outH * outW;
  const rows = kh * kw * inC;
  const acc = new Float64Array(rows * outC);
  const ys = new Int32Array(kh);
  const xs = new Int32Array(kw);
  for (let s = 0; s < splits; s++) {
    acc.fill(0);
    for (let q = s * chunk; q < Math.min(P, (s + 1) * chunk); q++) {
      const ox = q % outW;
      const oy = Math.floor(q / outW) % outH;
      const img = Math.floor(q / (outW * outH));
      taps(true, oy, kh, sh, dh, pt, inH, ys);
      taps(true, ox, kw, sw, dw, pl, inW, xs);
      const d = q * outC;
      for (let ky = 0; ky < kh; ky++) {
        if (ys[ky] < 0) continue;
        for (let kx = 0; kx < kw; kx++) {
          if (xs[kx] < 0) continue;
          addOuter(acc, (ky * kw + kx) * inC * outC, x, ((img * inH + ys[ky]) * inW + xs[kx]) * inC, inC, dy, d, outC);
        }
      }
    }
    for (let j = 0; j < acc.length; j++) out[s * acc.length + j] = acc[j];
  }
}
