// conv2d and its gradients (conv2dBackpropInput, conv2dBackpropFilter) on every backend, against a
// direct float64 convolution written here, on fresh random inputs of odd sizes; gradients against
// central differences of that reference; checkGradients; and the error messages.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { BACKENDS, useBackend } from './helpers/backends.js';
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

/** Direct convolution in float64: seven loops over the output pixels, the taps and the channels. */
function refConv(x: Float64Array, w: Float64Array, c: Case): { y: Float64Array; shape: number[] } {
  const [N, H, W, C] = c.x.length === 3 ? [1, ...c.x] : c.x;
  const [KH, KW, , O] = c.f;
  const [sh, sw] = pair(c.strides);
  const [dh, dw] = pair(c.dilations);
  const [OH, pt] = axis(H, KH, sh, dh, c.padding ?? 'valid');
  const [OW, pl] = axis(W, KW, sw, dw, c.padding ?? 'valid');
  const y = new Float64Array(N * OH * OW * O);
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
              const xv = x[((n * H + iy) * W + ix) * C + i];
              const wi = ((ky * KW + kx) * C + i) * O;
              for (let o = 0; o < O; o++) y[out + o] += xv * w[wi + o];
            }
          }
        }
      }
  return { y, shape: c.x.length === 3 ? [OH, OW, O] : [N, OH, OW, O] };
}

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

describe.each(BACKENDS)('conv2d on %s', (backend) => {
  const tol = TOL[backend];
  beforeAll(() => useBackend(backend));

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
