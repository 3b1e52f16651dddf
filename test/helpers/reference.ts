// Float64 references of every op family, written as plain loops over row-major arrays, for the
// fuzz suites: broadcasting, reductions over axes, data movement, matMul, conv2d, pooling and
// softmax. Each takes values and shapes and returns the output values (shapes are the caller's).
import { coordsOf, indexOf, sizeOf } from './numeric.js';

/** NumPy broadcast of two shapes, or null when they do not broadcast. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Flat index in `shape` of the element that broadcasting reads for output coords `c`. */
export function broadcastSource(c: readonly number[], shape: readonly number[]): number {
  const lead = c.length - shape.length;
  return indexOf(
    shape.map((d, i) => (d === 1 ? 0 : c[lead + i])),
    shape,
  );
}

/** out[c] = f(a[c'], b[c'']) over the broadcast of both shapes. */
export function broadcastBinary(a: ArrayLike<number>, aShape: readonly number[], b: ArrayLike<number>, bShape: readonly number[], f: (x: number, y: number) => number): Float64Array {
  const shape = broadcastShape(aShape, bShape)!;
  return Float64Array.from({ length: sizeOf(shape) }, (_, i) => {
    const c = coordsOf(i, shape);
    return f(a[broadcastSource(c, aShape)], b[broadcastSource(c, bShape)]);
  });
}

/** What a reduction computes from the values of one reduced group. */
export type GroupReducer = (group: number[]) => number;

/** Reduces `x` over `axes` (sorted, unique, non-negative): one value per kept coordinate, row-major. */
export function reduceAxes(x: ArrayLike<number>, shape: readonly number[], axes: readonly number[], reducer: GroupReducer): Float64Array {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const groups = Array.from({ length: sizeOf(kept) }, () => [] as number[]);
  for (let i = 0; i < x.length; i++) {
    const c = coordsOf(i, shape).map((v, d) => (axes.includes(d) ? 0 : v));
    groups[indexOf(c, kept)].push(x[i]);
  }
  return Float64Array.from(groups, reducer);
}

/** The reducers of the library's reductions. argMax/argMin return the first extreme index. */
export const REDUCERS: Record<string, GroupReducer> = {
  sum: (g) => g.reduce((s, v) => s + v, 0),
  mean: (g) => g.reduce((s, v) => s + v, 0) / g.length,
  max: (g) => Math.max(...g),
  min: (g) => Math.min(...g),
  logSumExp: (g) => {
    const m = Math.max(...g);
    return m + Math.log(g.reduce((s, v) => s + Math.exp(v - m), 0));
  },
  argMax: (g) => g.indexOf(Math.max(...g)),
  argMin: (g) => g.indexOf(Math.min(...g)),
};

/** Output coords → input values: out[i] = x[source(coords of i)] (or `fill` where source is null). */
export function remap(x: ArrayLike<number>, shape: readonly number[], outShape: readonly number[], source: (c: number[]) => number[] | null, fill = 0): Float64Array {
  return Float64Array.from({ length: sizeOf(outShape) }, (_, i) => {
    const c = source(coordsOf(i, outShape));
    return c === null ? fill : x[indexOf(c, shape)];
  });
}

/** Values of `x` [..., M, K]·`b` [..., K, N] (with transposes) over the broadcast batch. */
export function matMulRef(a: ArrayLike<number>, aShape: readonly number[], b: ArrayLike<number>, bShape: readonly number[], tA: boolean, tB: boolean): Float64Array {
  const [ar, ac] = aShape.slice(-2);
  const [br, bc] = bShape.slice(-2);
  const [M, K] = tA ? [ac, ar] : [ar, ac];
  const N = tB ? br : bc;
  const batch = broadcastShape(aShape.slice(0, -2), bShape.slice(0, -2))!;
  const out = new Float64Array(sizeOf(batch) * M * N);
  for (let z = 0; z < sizeOf(batch); z++) {
    const c = coordsOf(z, batch);
    const aBase = broadcastSource(c, aShape.slice(0, -2)) * M * K;
    const bBase = broadcastSource(c, bShape.slice(0, -2)) * K * N;
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[aBase + (tA ? k * M + m : m * K + k)] * b[bBase + (tB ? n * K + k : k * N + n)];
        out[(z * M + m) * N + n] = s;
      }
  }
  return out;
}

/** A 2-d window geometry: kernel, stride, dilation and padding per axis (TF's SAME rule). */
export interface Window {
  k: [number, number];
  s: [number, number];
  d: [number, number];
  padding: 'same' | 'valid';
}

/** Output size and leading pad of one axis; out 0 means the window does not fit. */
export function windowAxisRef(size: number, k: number, s: number, d: number, padding: 'same' | 'valid'): { out: number; pad: number } {
  const span = (k - 1) * d + 1;
  if (padding === 'valid') return { out: size >= span ? Math.floor((size - span) / s) + 1 : 0, pad: 0 };
  const out = Math.ceil(size / s);
  return { out, pad: Math.floor(Math.max((out - 1) * s + span - size, 0) / 2) };
}

/** Output [outH, outW] of a window over an H×W image. */
export function windowOut(H: number, W: number, w: Window): [number, number] {
  return [windowAxisRef(H, w.k[0], w.s[0], w.d[0], w.padding).out, windowAxisRef(W, w.k[1], w.s[1], w.d[1], w.padding).out];
}

/** Calls `tap(oy, ox, ky, kx, iy, ix)` for every window tap of every output pixel that lands inside the image. */
export function forEachTap(H: number, W: number, w: Window, tap: (oy: number, ox: number, ky: number, kx: number, iy: number, ix: number) => void): void {
  const y = windowAxisRef(H, w.k[0], w.s[0], w.d[0], w.padding);
  const x = windowAxisRef(W, w.k[1], w.s[1], w.d[1], w.padding);
  for (let oy = 0; oy < y.out; oy++)
    for (let ox = 0; ox < x.out; ox++)
      for (let ky = 0; ky < w.k[0]; ky++)
        for (let kx = 0; kx < w.k[1]; kx++) {
          const iy = oy * w.s[0] + ky * w.d[0] - y.pad;
          const ix = ox * w.s[1] + kx * w.d[1] - x.pad;
          if (iy >= 0 && iy < H && ix >= 0 && ix < W) tap(oy, ox, ky, kx, iy, ix);
        }
}

/** conv2d of x [N,H,W,C] with filter [kh,kw,C,O] (NHWC, TF semantics). */
export function conv2dRef(x: ArrayLike<number>, xShape: readonly number[], f: ArrayLike<number>, fShape: readonly number[], w: Window): Float64Array {
  const [N, H, W, C] = xShape;
  const O = fShape[3];
  const [oh, ow] = windowOut(H, W, w);
  const out = new Float64Array(N * oh * ow * O);
  for (let n = 0; n < N; n++)
    forEachTap(H, W, w, (oy, ox, ky, kx, iy, ix) => {
      for (let c = 0; c < C; c++) {
        const xv = x[((n * H + iy) * W + ix) * C + c];
        for (let o = 0; o < O; o++) out[((n * oh + oy) * ow + ox) * O + o] += xv * f[((ky * fShape[1] + kx) * C + c) * O + o];
      }
    });
  return out;
}

/** Max or average pooling of x [N,H,W,C]; averages count only the taps inside the image. */
export function poolRef(x: ArrayLike<number>, xShape: readonly number[], w: Window, kind: 'max' | 'avg'): Float64Array {
  const [N, H, W, C] = xShape;
  const [oh, ow] = windowOut(H, W, w);
  const groups = Array.from({ length: N * oh * ow * C }, () => [] as number[]);
  for (let n = 0; n < N; n++)
    forEachTap(H, W, w, (oy, ox, _ky, _kx, iy, ix) => {
      for (let c = 0; c < C; c++) groups[((n * oh + oy) * ow + ox) * C + c].push(x[((n * H + iy) * W + ix) * C + c]);
    });
  return Float64Array.from(groups, kind === 'max' ? REDUCERS.max : REDUCERS.mean);
}

/** softmax (or log-softmax) of x along `axis` (non-negative). */
export function softmaxRef(x: ArrayLike<number>, shape: readonly number[], axis: number, log: boolean): Float64Array {
  const lse = reduceAxes(x, shape, [axis], REDUCERS.logSumExp);
  const kept = shape.map((d, i) => (i === axis ? 1 : d));
  return Float64Array.from({ length: x.length }, (_, i) => {
    const c = coordsOf(i, shape);
    c[axis] = 0;
    const v = x[i] - lse[indexOf(c, kept)];
    return log ? v : Math.exp(v);
  });
}

/** Mean over rows of −Σ labels·logSoftmax(logits) (sparse: int class indices per row). */
export function softmaxCrossEntropyRef(logits: ArrayLike<number>, shape: readonly number[], labels: ArrayLike<number>, sparse: boolean): number {
  const classes = shape[shape.length - 1];
  const rows = logits.length / classes;
  const logp = softmaxRef(logits, shape, shape.length - 1, true);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    if (sparse) total -= logp[r * classes + labels[r]];
    else for (let j = 0; j < classes; j++) total -= labels[r * classes + j] * logp[r * classes + j];
  }
  return total / rows;
}
