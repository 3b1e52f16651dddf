// conv2d and its gradients (conv2dBackpropInput, conv2dBackpropFilter) on every backend, and on WebGPU
// with both kernels (register tiles and workgroup-memory tiles), against a direct float64 convolution
// written here, on fresh random inputs of odd sizes (several 64×64 workgroup tiles with ragged edges
// too); both backprops against float64 adjoint loops; gradients against central differences of the
// reference; checkGradients; and the error messages. fusedConv2d (bias + activation in the conv
// kernel's epilogue) against the same reference, activated.
import { describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { engine } from '../src/engine.js';
import { conv2dBackpropFilter, conv2dBackpropFilterOp, conv2dBackpropInput, conv2dBackpropInputOp, conv2dOp, fusedConv2dOp } from '../src/ops/conv.js';
import { col2imOp, im2colOp, wastedTapShare } from '../src/ops/conv-columns.js';
import { convAttrs, convGeometry } from '../src/ops/conv-geometry.js';
import { covering } from './helpers/coverage.js';
import { VARIANTS, useVariant } from './helpers/variants.js';
import { normRelativeError } from './helpers/close.js';
import { freshRng, uniform } from './helpers/random.js';

/** Long sums: error relative to the reference's largest magnitude. */
const TOL = { cpu: 1e-4, webgpu: 1e-3 };


type Pair = number | [number, number];
interface Case {
  x: number[];
  f: number[];
  strides?: Pair;
  padding?: 'same' | 'valid';
  dilations?: Pair;
}

const pair = (v: Pair | undefined): [number, number] => (v === undefined ? [1, 1] : typeof v === 'number' ? [v, v] : v);
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Output size and leading pad of one axis, from TF's documented rule. */
function axis(n: number, k: number, s: number, d: number, padding: 'same' | 'valid'): [number, number] {
  const span = (k - 1) * d + 1;
  if (padding === 'valid') return [Math.ceil((n - span + 1) / s), 0];
  const out = Math.ceil(n / s);
  const total = Math.max((out - 1) * s + span - n, 0);
  return [out, Math.floor(total / 2)];
}

/** Output size of a case: [N, OH, OW, O]. */
function outputDims(c: Case): [number, number, number, number] {
  const [N, H, W] = c.x.length === 3 ? [1, ...c.x] : c.x;
  const [KH, KW, , O] = c.f;
  const [sh, sw] = pair(c.strides);
  const [dh, dw] = pair(c.dilations);
  return [N, axis(H, KH, sh, dh, c.padding ?? 'valid')[0], axis(W, KW, sw, dw, c.padding ?? 'valid')[0], O];
}

/**
 * The seven loops of a direct convolution: calls `product(xi, wi, yi)` for every input element,
 * filter element and output element that one multiply-add of the convolution joins.
 */
function forEachProduct(c: Case, product: (xi: number, wi: number, yi: number) => void): void {
  const [N, H, W, C] = c.x.length === 3 ? [1, ...c.x] : c.x;
  const [KH, KW, , O] = c.f;
  const [sh, sw] = pair(c.strides);
  const [dh, dw] = pair(c.dilations);
  const [OH, pt] = axis(H, KH, sh, dh, c.padding ?? 'valid');
  const [OW, pl] = axis(W, KW, sw, dw, c.padding ?? 'valid');
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        const out = ((n * OH + oy) * OW + ox) * O;
        for (let ky = 0; ky < KH; ky++) {
          const iy = oy * sh + ky * dh - pt;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < KW; kx++) {
            const ix = ox * sw + kx * dw - pl;
            if (ix < 0 || ix >= W) continue;
            for (let i = 0; i < C; i++) {
              const xi = ((n * H + iy) * W + ix) * C + i;
              const wi = ((ky * KW + kx) * C + i) * O;
              for (let o = 0; o < O; o++) product(xi, wi + o, out + o);
            }
          }
        }
      }
}

/** Direct convolution in float64. */
function refConv(x: Float64Array, w: Float64Array, c: Case): { y: Float64Array; shape: number[] } {
  const [N, OH, OW, O] = outputDims(c);
  const y = new Float64Array(N * OH * OW * O);
  forEachProduct(c, (xi, wi, yi) => (y[yi] += x[xi] * w[wi]));
  return { y, shape: c.x.length === 3 ? [OH, OW, O] : [N, OH, OW, O] };
}

/**
 * The adjoints of refConv in float64: dx = Σ dy · w and dw = Σ x · dy over the same products,
 * i.e. what conv2dBackpropInput and conv2dBackpropFilter compute.
 */
function refConvAdjoints(x: Float64Array, w: Float64Array, dy: Float64Array, c: Case): { dx: Float64Array; dw: Float64Array } {
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  forEachProduct(c, (xi, wi, yi) => {
    dx[xi] += dy[yi] * w[wi];
    dw[wi] += x[xi] * dy[yi];
  });
  return { dx, dw };
}

/**
 * Both backprops on all elements: odd sizes; several 64×64 tiles each way with ragged edges; a long
 * reduction over pixels that the filter gradient splits into chunks with a shorter last one.
 */
const BACKPROP: Case[] = [
  { x: [1, 5, 5, 1], f: [3, 3, 1, 3] },
  { x: [3, 7, 7, 3], f: [3, 3, 3, 7], strides: 2 },
  { x: [3, 11, 9, 67], f: [3, 3, 67, 70], strides: 2, padding: 'same' },
  { x: [2, 17, 15, 9], f: [3, 2, 9, 66], strides: [2, 1], dilations: [1, 2] },
  { x: [5, 23, 21, 3], f: [3, 3, 3, 5], padding: 'same' },
  // inC a multiple of 16: the filter gradient's 16-row tile, with ragged vec4 columns, scalar columns, padding.
  { x: [3, 9, 11, 32], f: [3, 3, 32, 36], padding: 'same' },
  { x: [2, 8, 7, 16], f: [2, 3, 16, 5], strides: 2 },
];

const opts = (c: Case) => ({ strides: c.strides, padding: c.padding, dilations: c.dilations });
const t32 = (v: Float64Array, shape: number[]) => nt.tensor(Float32Array.from(v), shape);
const label = (c: Case) => `x ${JSON.stringify(c.x)} f ${JSON.stringify(c.f)} ${JSON.stringify(opts(c))}`;

const FORWARD: Case[] = [
  { x: [1, 1, 1, 1], f: [1, 1, 1, 1] },
  { x: [1, 5, 5, 1], f: [3, 3, 1, 3] },
  { x: [3, 7, 7, 3], f: [3, 3, 3, 7], padding: 'same' },
  { x: [1, 13, 13, 5], f: [3, 3, 5, 32], strides: 2, padding: 'same' },
  { x: [3, 7, 5, 3], f: [2, 3, 3, 1], strides: [2, 1] },
  { x: [1, 13, 7, 5], f: [3, 3, 5, 3], dilations: 2, padding: 'same' },
  { x: [2, 5, 7, 4], f: [3, 3, 4, 8], strides: 2, padding: 'same' },
  { x: [1, 13, 13, 8], f: [3, 2, 8, 12], dilations: [2, 1] },
  { x: [1, 1, 1, 3], f: [3, 3, 3, 7], padding: 'same' },
  { x: [1, 13, 13, 4], f: [3, 3, 4, 4], strides: 2, dilations: 2, padding: 'same' },
  { x: [3, 5, 5, 1], f: [5, 5, 1, 32], padding: 'same' },
  { x: [7, 7, 3], f: [3, 3, 3, 5], padding: 'same' },
  { x: [2, 28, 28, 1], f: [3, 3, 1, 32] },
  { x: [2, 13, 13, 32], f: [3, 3, 32, 64] },
  // Several 64×64 workgroup tiles with ragged edges, K not a multiple of 16.
  { x: [3, 11, 9, 19], f: [3, 3, 19, 67], strides: 2, padding: 'same' },
  { x: [2, 12, 10, 5], f: [2, 3, 5, 65], dilations: [2, 1] },
];

const GRADIENT: Case[] = [
  { x: [1, 5, 5, 1], f: [3, 3, 1, 3] },
  { x: [2, 7, 7, 3], f: [3, 3, 3, 5], strides: 2, padding: 'same' },
  { x: [1, 7, 5, 5], f: [3, 3, 5, 7], dilations: 2, padding: 'same' },
  { x: [2, 6, 6, 4], f: [3, 3, 4, 8], strides: 2, padding: 'same' },
  { x: [1, 13, 7, 8], f: [2, 3, 8, 12], strides: [2, 1], dilations: [1, 2] },
  { x: [3, 5, 5, 4], f: [1, 1, 4, 4], strides: 2 },
  { x: [2, 13, 13, 3], f: [3, 3, 3, 5] },
  { x: [5, 5, 3], f: [3, 3, 3, 2], padding: 'same' },
];

/** MNIST-sized layers: gradients checked at sampled elements. */
const GRADIENT_SAMPLED: Case[] = [
  { x: [2, 28, 28, 1], f: [3, 3, 1, 32] },
  { x: [1, 13, 13, 32], f: [3, 3, 32, 64] },
];

/** Picks `k` distinct indices of [0, n) (all of them when n ≤ k). */
function sample(n: number, k: number): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  const r = freshRng();
  const picked = new Set<number>();
  while (picked.size < k) picked.add(Math.floor(r() * n));
  return [...picked];
}

/** Central differences of L = Σ r ⊙ refConv(x, w) w.r.t. `v` (x or w) at `indices`. */
function numericGrad(c: Case, x: Float64Array, w: Float64Array, r: Float64Array, v: Float64Array, indices: number[]): number[] {
  const loss = () => refConv(x, w, c).y.reduce((acc, y, i) => acc + y * r[i], 0);
  const h = 1e-3;
  return indices.map((i) => {
    const orig = v[i];
    v[i] = orig + h;
    const plus = loss();
    v[i] = orig - h;
    const minus = loss();
    v[i] = orig;
    return (plus - minus) / (2 * h);
  });
}

interface GradientData {
  x: Float64Array;
  w: Float64Array;
  r: Float64Array;
  ref: { y: Float64Array; shape: number[] };
  numeric: { at: number[]; expected: number[] }[];
}
const gradientCache = new Map<Case, GradientData>();

/** Inputs, loss weights and numeric gradients of a case: made once per run and shared by the backends. */
function gradientData(c: Case, samples: number): GradientData {
  let d = gradientCache.get(c);
  if (!d) {
    const x = uniform(size(c.x));
    const w = uniform(size(c.f));
    const ref = refConv(x, w, c);
    const r = uniform(ref.y.length);
    const numeric = [x, w].map((v) => {
      const at = sample(v.length, samples);
      return { at, expected: numericGrad(c, x, w, r, v, at) };
    });
    d = { x, w, r, ref, numeric };
    gradientCache.set(c, d);
  }
  return d;
}

describe.each(VARIANTS)('conv2d on $name', (variant) => {
  const { backend, tiling } = variant;
  const tol = TOL[backend];
  useVariant(variant);

  if (tiling) {
    it(`builds the ${tiling} kernel for conv2d and both backprops`, () => {
      nt.tidy(() => {
        const [x, w, dy] = [nt.zeros([1, 5, 5, 2]), nt.zeros([3, 3, 2, 4]), nt.zeros([1, 3, 3, 4])];
        const attrs = { strides: [1, 1] as const, dilations: [1, 1] as const, padding: 'valid' as const };
        const wT = nt.transpose(w, { perm: [0, 1, 3, 2] });
        const input = { ...attrs, xShape: x.shape };
        const filter = { ...attrs, filterShape: w.shape, splits: 1 };
        const calls = [
          conv2dOp.kernel([x, w], conv2dOp.outputs([x, w], attrs), attrs, { tiling }),
          conv2dBackpropInputOp.kernel([dy, wT], conv2dBackpropInputOp.outputs([dy, wT], input), input, { tiling }),
          conv2dBackpropFilterOp.kernel([x, dy], conv2dBackpropFilterOp.outputs([x, dy], filter), filter, { tiling }),
        ];
        for (const call of calls) expect(call.key).toContain(tiling);
        expect(new Set(calls.map((c) => c.key)).size).toBe(3);
      });
    });
  }

  it.each(FORWARD.map((c) => [label(c), c] as const))('forward matches float64: %s', async (_l, c) => {
    const x = uniform(size(c.x));
    const w = uniform(size(c.f));
    const ref = refConv(x, w, c);
    const y = nt.tidy(() => nt.conv2d(t32(x, c.x), t32(w, c.f), opts(c)));
    expect(y.shape).toEqual(ref.shape);
    expect(normRelativeError(await y.data(), ref.y)).toBeLessThan(tol);
    y.dispose();
  });

  const gradCase = async (c: Case, samples: number) => {
    const { x, w, r, ref, numeric } = gradientData(c, samples);
    const [gx, gw] = nt.grads((xt, wt) => nt.sum(nt.mul(nt.conv2d(xt, wt, opts(c)), t32(r, ref.shape))))([t32(x, c.x), t32(w, c.f)]);
    for (const [name, g] of [['d/dx', gx], ['d/dfilter', gw]] as const) {
      expect(g.shape).toEqual(name === 'd/dx' ? c.x : c.f);
      const got = await g.data();
      const { at, expected } = numeric[name === 'd/dx' ? 0 : 1];
      const err = normRelativeError(at.map((i) => got[i]), expected);
      expect(err, name).toBeLessThan(tol);
    }
    nt.dispose([gx, gw]);
  };

  it.each(BACKPROP.map((c) => [label(c), c] as const))('conv2dBackpropInput and conv2dBackpropFilter match float64: %s', async (_l, c) => {
    const [x, w] = [uniform(size(c.x)), uniform(size(c.f))];
    const ref = refConv(x, w, c);
    const dy = uniform(ref.y.length);
    const { dx, dw } = refConvAdjoints(x, w, dy, c);
    const [gx, gw] = nt.tidy(() => {
      const dyT = t32(dy, ref.shape);
      return [conv2dBackpropInput(dyT, t32(w, c.f), c.x, opts(c)), conv2dBackpropFilter(t32(x, c.x), dyT, c.f, opts(c))];
    });
    expect([gx.shape, gw.shape]).toEqual([c.x, c.f]);
    expect(normRelativeError(await gx.data(), dx), 'dx').toBeLessThan(tol);
    expect(normRelativeError(await gw.data(), dw), 'dfilter').toBeLessThan(tol);
    nt.dispose([gx, gw]);
  });

  if (tiling === 'register') {
    it('takes the input gradient through patch columns where most taps fall outside dy, directly elsewhere', async () => {
      // 5 × 5 inputs from 3 × 3 outputs (the tutorial CNN's third conv): 64 % of the direct kernel's taps are skipped.
      const small: Case = { x: [3, 5, 5, 12], f: [3, 3, 12, 7] };
      expect(wastedTapShare(convGeometry('t', small.x, small.f, convAttrs('t', {})))).toBeCloseTo(0.64, 2);
      expect(wastedTapShare(convGeometry('t', [2, 13, 13, 4], [3, 3, 4, 4], convAttrs('t', {})))).toBeLessThan(0.5);
      await covering({ forward: ['col2im', 'matMul'] }, async () => {
        const [w, dy] = [uniform(size(small.f)), uniform(3 * 3 * 3 * 7)];
        const gx = nt.tidy(() => conv2dBackpropInput(t32(dy, [3, 3, 3, 7]), t32(w, small.f), small.x));
        const { dx } = refConvAdjoints(new Float64Array(size(small.x)), w, dy, small);
        expect(normRelativeError(await gx.data(), dx)).toBeLessThan(tol);
        gx.dispose();
      });
    });
  }

  it.each(GRADIENT.map((c) => [label(c), c] as const))('gradients match central differences: %s', (_l, c) => gradCase(c, Infinity));

  it.each(GRADIENT_SAMPLED.map((c) => [label(c), c] as const))('gradients of an MNIST-sized layer match at sampled elements: %s', (_l, c) =>
    gradCase(c, 16),
  );

  it('only computes the gradients that are asked for', async () => {
    const w = nt.tensor(Float32Array.from(uniform(3 * 3 * 2 * 4)), [3, 3, 2, 4]);
    const x = nt.tensor(Float32Array.from(uniform(1 * 6 * 6 * 2)), [1, 6, 6, 2]);
    nt.resetStats();
    const g = nt.grad((wt) => nt.sum(nt.conv2d(x, wt)))(w);
    const withFilterOnly = nt.stats().dispatches;
    nt.resetStats();
    const [gx, gw] = nt.grads((xt, wt) => nt.sum(nt.conv2d(xt, wt)))([x, w]);
    expect(nt.stats().dispatches).toBeGreaterThan(withFilterOnly);
    expect(Array.from(await g.data())).toEqual(Array.from(await gw.data()));
    nt.dispose([g, gx, gw, x, w]);
  });

  it('checkGradients agrees on a nonlinear function of conv2d', async () => {
    const x = nt.tensor(Float32Array.from(uniform(1 * 5 * 5 * 2)), [1, 5, 5, 2]);
    const w = nt.tensor(Float32Array.from(uniform(3 * 3 * 2 * 3)), [3, 3, 2, 3]);
    const result = await nt.checkGradients((a, b) => nt.sum(nt.square(nt.conv2d(a, b, { strides: 2, padding: 'same' }))), [x, w]);
    expect(result.maxRelativeError).toBeLessThan(1e-2);
    nt.dispose([x, w]);
  });

  it('names the op and the shapes in its errors', () => {
    nt.tidy(() => {
      const x = nt.zeros([2, 28, 28, 3]);
      expect(() => nt.conv2d(x, nt.zeros([3, 3, 1, 32]))).toThrow(
        new nt.ShapeError('conv2d: input [2,28,28,3] has 3 channels but filter [3,3,1,32] expects inC=1'),
      );
      expect(() => nt.conv2d(nt.zeros([28, 28]), nt.zeros([3, 3, 1, 32]))).toThrow(/conv2d: expected x of rank 4 \[N,H,W,C\] or rank 3 \[H,W,C\], got \[28,28\]/);
      expect(() => nt.conv2d(x, nt.zeros([3, 3, 3]))).toThrow(/conv2d: expected filter of rank 4 \[kh,kw,inC,outC\], got \[3,3,3\]/);
      expect(() => nt.conv2d(x, nt.zeros([3, 3, 3, 4]), { strides: 0 })).toThrow(nt.ArgumentError);
      expect(() => nt.conv2d(x, nt.zeros([3, 3, 3, 4]), { strides: [1, 2, 3] as unknown as [number, number] })).toThrow(
        /conv2d: strides must be a positive integer or a pair \[h, w\] of them, got \[1,2,3\]/,
      );
      expect(() => nt.conv2d(x, nt.zeros([3, 3, 3, 4]), { dilations: 1.5 })).toThrow(/conv2d: dilations must be a positive integer/);
      expect(() => nt.conv2d(x, nt.zeros([3, 3, 3, 4]), { padding: 'full' as 'same' })).toThrow(/conv2d: padding must be 'same' or 'valid', got "full"/);
      expect(() => nt.conv2d(nt.zeros([1, 2, 2, 1]), nt.zeros([3, 3, 1, 1]))).toThrow(
        /conv2d: output would be empty: input \[1,2,2,1\] with filter \[3,3,1,1\] \(dilations \[1,1\]\) and 'valid' padding gives \[1,0,0,1\]/,
      );
      expect(() => nt.conv2d(nt.zeros([1, 5, 5, 1]), nt.zeros([3, 3, 1, 1]), { dilations: 3 })).toThrow(/output would be empty/);
      expect(() => nt.conv2d(nt.zeros([1, 5, 5, 1], 'int32'), nt.zeros([3, 3, 1, 1]))).toThrow(nt.DTypeError);
    });
  });
});

const ACTIVATIONS = ['linear', 'relu', 'sigmoid', 'tanh'] as const;
type Act = (typeof ACTIVATIONS)[number];
const ACT_FN: Record<Act, (z: number) => number> = {
  linear: (z) => z,
  relu: (z) => Math.max(z, 0),
  sigmoid: (z) => 1 / (1 + Math.exp(-z)),
  tanh: Math.tanh,
};

/** The float64 reference of fusedConv2d: act(conv2d(x, w) + bias[channel]). */
function refFusedConv(x: Float64Array, w: Float64Array, bias: Float64Array | null, act: Act, c: Case): Float64Array {
  const O = c.f[3];
  return refConv(x, w, c).y.map((v, i) => ACT_FN[act](v + (bias ? bias[i % O] : 0)));
}

/** Central differences of Σ r ⊙ f() with respect to every element of `v`. */
function numericAll(v: Float64Array, f: () => Float64Array, r: Float64Array): Float64Array {
  const h = 1e-3;
  const loss = () => f().reduce((acc, y, i) => acc + y * r[i], 0);
  return v.map((orig, i) => {
    v[i] = orig + h;
    const plus = loss();
    v[i] = orig - h;
    const minus = loss();
    v[i] = orig;
    return (plus - minus) / (2 * h);
  });
}

/** Odd shapes: scalar and vec4 output columns, stride 2 'same' (uneven pad), and a rank-3 input. */
const FUSED: Case[] = [
  { x: [2, 7, 5, 3], f: [3, 3, 3, 5], strides: 2, padding: 'same' },
  { x: [1, 5, 7, 2], f: [2, 3, 2, 8] },
  { x: [7, 5, 3], f: [3, 3, 3, 4], padding: 'same' },
];

/** Forward only (too large for central differences at every element): several 64×64 tiles, ragged edges. */
const FUSED_LARGE: Case[] = [{ x: [3, 11, 9, 7], f: [3, 3, 7, 67], strides: 2, padding: 'same' }];

describe.each(VARIANTS)('fusedConv2d on $name', (variant) => {
  const { backend, tiling } = variant;
  const tol = TOL[backend];
  useVariant(variant);

  describe.each(ACTIVATIONS)('activation %s', (activation) => {
    const cases = [...FUSED, ...FUSED_LARGE].flatMap((c) => [true, false].map((withBias) => ({ c, withBias, label: `${label(c)} bias ${withBias}` })));

    it.each(cases)('$label matches float64', async ({ c, withBias }) => {
      const x = uniform(size(c.x));
      const w = uniform(size(c.f));
      const bias = withBias ? uniform(c.f[3]) : null;
      const ref = refFusedConv(x, w, bias, activation, c);
      const y = nt.tidy(() => nt.fusedConv2d(t32(x, c.x), t32(w, c.f), { ...opts(c), activation, bias: bias ? t32(bias, [c.f[3]]) : undefined }));
      expect(y.shape).toEqual(refConv(x, w, c).shape);
      expect(normRelativeError(await y.data(), ref)).toBeLessThan(tol);
      y.dispose();
    });

    it.each(FUSED.map((c) => [label(c), c] as const))('gradients w.r.t. x, filter and bias match central differences: %s', async (_l, c) => {
      const [x, w, bias] = [uniform(size(c.x)), uniform(size(c.f)), uniform(c.f[3])];
      const f = () => refFusedConv(x, w, bias, activation, c);
      const shape = refConv(x, w, c).shape;
      // Relu's kink: outputs whose pre-activation is within 0.01 of 0 get no weight, since a step
      // of 1e-3 in one input moves each pre-activation by at most 1e-3 · (a few) here.
      const pre = refFusedConv(x, w, bias, 'linear', c);
      const r = uniform(pre.length).map((v, i) => (Math.abs(pre[i]) < 0.01 ? 0 : v));
      const rT = t32(r, shape);
      const [gx, gw, gb] = nt.grads((xt, wt, bt) => nt.sum(nt.mul(nt.fusedConv2d(xt, wt, { ...opts(c), bias: bt, activation }), rT)))([
        t32(x, c.x),
        t32(w, c.f),
        t32(bias, [c.f[3]]),
      ]);
      expect([gx.shape, gw.shape, gb.shape]).toEqual([c.x, c.f, [c.f[3]]]);
      expect(normRelativeError(await gx.data(), numericAll(x, f, r)), 'd/dx').toBeLessThan(tol);
      expect(normRelativeError(await gw.data(), numericAll(w, f, r)), 'd/dfilter').toBeLessThan(tol);
      expect(normRelativeError(await gb.data(), numericAll(bias, f, r)), 'd/dbias').toBeLessThan(tol);
      nt.dispose([gx, gw, gb, rT]);
    });
  });

  it('runs one dispatch, with a key holding the activation and the bias; no bias and linear is plain conv2d', () => {
    nt.tidy(() => {
      const [x, w, b] = [nt.zeros([1, 5, 5, 2]), nt.zeros([3, 3, 2, 4]), nt.zeros([4])];
      const attrs = { strides: [1, 1] as const, dilations: [1, 1] as const, padding: 'valid' as const, activation: 'relu' as const };
      const withBias = fusedConv2dOp.kernel([x, w, b], fusedConv2dOp.outputs([x, w, b], attrs), attrs, engine.backend.preferences);
      const without = fusedConv2dOp.kernel([x, w], fusedConv2dOp.outputs([x, w], attrs), attrs, engine.backend.preferences);
      expect(withBias.key).toContain('relu');
      expect(withBias.key).toContain(tiling ?? engine.backend.preferences.tiling);
      expect(withBias.key).not.toBe(without.key);
      nt.flush(); // computes the lazy zeros first
      nt.resetStats();
      nt.fusedConv2d(x, w, { bias: b, activation: 'sigmoid' });
      expect(nt.stats().dispatches).toBe(1);
      expect(nt.fusedConv2d(x, w).shape).toEqual([1, 3, 3, 4]);
    });
  });

  it('takes the gradient of the bias alone (x and filter need none)', async () => {
    const c: Case = { x: [2, 5, 5, 2], f: [3, 3, 2, 3], padding: 'same' };
    const [x, w] = [uniform(size(c.x)), uniform(size(c.f))];
    const [xt, wt, bt] = [t32(x, c.x), t32(w, c.f), t32(uniform(3), [3])];
    const gb = nt.grad((z) => nt.sum(nt.fusedConv2d(xt, wt, { ...opts(c), bias: z, activation: 'tanh' })))(bt);
    const y = refFusedConv(x, w, Float64Array.from(await bt.data()), 'tanh', c);
    // d/dbias_o Σ tanh(z) = Σ_pixels (1 − y_o²)
    const expected = [0, 1, 2].map((o) => y.reduce((s, v, i) => (i % 3 === o ? s + 1 - v * v : s), 0));
    expect(normRelativeError(await gb.data(), expected)).toBeLessThan(tol);
    nt.dispose([xt, wt, bt, gb]);
  });

  it('names the op in argument, shape and dtype errors', () => {
    nt.tidy(() => {
      const [x, w] = [nt.zeros([1, 5, 5, 2]), nt.zeros([3, 3, 2, 4])];
      expect(() => nt.fusedConv2d(x, w, { activation: 'softmax' as never })).toThrow(
        new nt.ArgumentError('fusedConv2d: unsupported activation "softmax" (expected one of linear, relu, sigmoid, tanh)'),
      );
      expect(() => nt.fusedConv2d(x, w, { bias: nt.zeros([2]) })).toThrow(
        new nt.ShapeError("fusedConv2d: bias [2] does not match the filter's 4 output channels; expected shape [4]"),
      );
      expect(() => nt.fusedConv2d(x, w, { bias: nt.zeros([4], 'int32') })).toThrow(nt.DTypeError);
      expect(() => nt.fusedConv2d(x, nt.zeros([3, 3, 3, 4]), { activation: 'relu' })).toThrow(
        new nt.ShapeError('fusedConv2d: input [1,5,5,2] has 2 channels but filter [3,3,3,4] expects inC=3'),
      );
      expect(() => nt.fusedConv2d(nt.zeros([5, 5]), w, { activation: 'relu' })).toThrow(/fusedConv2d: expected x of rank 4/);
    });
  });
});

/** im2col in float64: each output pixel's patch of x as a row [N·outH·outW, kh·kw·C], zeros outside x. */
function refIm2col(x: Float64Array, c: Case): Float64Array {
  const [N, H, W, C] = c.x;
  const [KH, KW] = c.f;
  const [sh, sw] = pair(c.strides);
  const [dh, dw] = pair(c.dilations);
  const [OH, pt] = axis(H, KH, sh, dh, c.padding ?? 'valid');
  const [OW, pl] = axis(W, KW, sw, dw, c.padding ?? 'valid');
  const out = new Float64Array(N * OH * OW * KH * KW * C);
  let o = 0;
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++)
        for (let ky = 0; ky < KH; ky++)
          for (let kx = 0; kx < KW; kx++)
            for (let i = 0; i < C; i++, o++) {
              const [iy, ix] = [oy * sh + ky * dh - pt, ox * sw + kx * dw - pl];
              if (iy >= 0 && iy < H && ix >= 0 && ix < W) out[o] = x[((n * H + iy) * W + ix) * C + i];
            }
  return out;
}

/** col2im in float64: the adjoint of refIm2col, summing each column back where it was gathered from. */
function refCol2im(columns: Float64Array, c: Case): Float64Array {
  const dx = new Float64Array(size(c.x));
  const unit = new Float64Array(dx.length);
  // Which x element each column reads: gather the element indices themselves.
  unit.forEach((_, i) => (unit[i] = i + 1));
  refIm2col(unit, c).forEach((v, k) => {
    if (v > 0) dx[v - 1] += columns[k];
  });
  return dx;
}

describe.each(VARIANTS)('im2col and col2im on $name', (variant) => {
  useVariant(variant);
  const { backend } = variant;
  const tol = TOL[backend];
  const attrsOf = (c: Case) => ({ ...convAttrs('t', opts(c)), xShape: c.x, taps: [c.f[0], c.f[1]] as [number, number] });
  // Odd sizes; four channels (vec4 lanes) and three; strides, dilations, both paddings.
  const CASES: Case[] = [
    { x: [2, 5, 5, 4], f: [3, 3, 4, 1] },
    { x: [1, 7, 6, 3], f: [3, 2, 3, 1], strides: 2, padding: 'same' },
    { x: [2, 9, 7, 8], f: [2, 3, 8, 1], strides: [2, 1], dilations: [1, 2] },
    { x: [1, 4, 4, 1], f: [3, 3, 1, 1], padding: 'same' },
  ];

  it.each(CASES.map((c) => [label(c), c] as const))('match float64, and each is the other\'s gradient: %s', async (_l, c) => {
    const attrs = attrsOf(c);
    const x = uniform(size(c.x));
    const columnsRef = refIm2col(x, c);
    const cols = uniform(columnsRef.length);
    await covering({ forward: ['im2col', 'col2im'], gradient: ['im2col', 'col2im'] }, async () => {
      const [xt, ct] = [t32(x, c.x), t32(cols, [columnsRef.length / (c.f[0] * c.f[1] * c.x[3]), c.f[0] * c.f[1] * c.x[3]])];
      const gathered = engine.runOp(im2colOp, [xt], attrs)[0];
      const summed = engine.runOp(col2imOp, [ct], attrs)[0];
      expect(gathered.shape).toEqual(ct.shape);
      expect(summed.shape).toEqual(c.x);
      expect(normRelativeError(await gathered.data(), columnsRef)).toBe(0);
      expect(normRelativeError(await summed.data(), refCol2im(cols, c))).toBeLessThan(tol);
      // d/dx Σ im2col(x)·cols = col2im(cols), and d/dcols Σ col2im(cols)·x = im2col(x).
      const dx = nt.grad((t: nt.Tensor) => nt.sum(nt.mul(engine.runOp(im2colOp, [t], attrs)[0], ct)))(xt);
      const dcols = nt.grad((t: nt.Tensor) => nt.sum(nt.mul(engine.runOp(col2imOp, [t], attrs)[0], xt)))(ct);
      expect(normRelativeError(await dx.data(), refCol2im(cols, c))).toBeLessThan(tol);
      expect(normRelativeError(await dcols.data(), columnsRef)).toBe(0);
      nt.dispose([xt, ct, gathered, summed, dx, dcols]);
    });
  });

  it('names the op and the shapes in its errors', () => {
    const attrs = attrsOf({ x: [2, 5, 5, 4], f: [3, 3, 4, 1] });
    nt.tidy(() => {
      expect(() => engine.runOp(col2imOp, [nt.zeros([17, 36])], attrs)).toThrow(/col2im: columns \[17,36\] do not match the conv's \[18,36\]/);
      expect(() => engine.runOp(im2colOp, [nt.zeros([2, 5, 4, 4])], attrs)).toThrow(/im2col: x \[2,5,4,4\] does not match the conv's input \[2,5,5,4\]/);
      expect(() => engine.runOp(col2imOp, [nt.zeros([18, 36], 'int32')], attrs)).toThrow(/col2im: expected float32, got int32 \[18,36\]/);
    });
  });
});
