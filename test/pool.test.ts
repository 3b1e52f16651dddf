// maxPool2d and avgPool2d, forward and gradient, on every backend, against float64 references
// written here: max pooling on inputs without ties (plus tie tests for the first-max rule),
// average pooling dividing by the count of real (non-padded) elements, as TF does.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { BACKENDS, RTOL, useBackend } from './helpers/backends.js';
import { expectAllClose } from './helpers/close.js';
import { freshRng, integers, uniform } from './helpers/random.js';

type Pair = number | [number, number];
type Kind = 'max' | 'avg';
interface Case {
  x: number[];
  poolSize: Pair;
  strides?: Pair;
  padding?: 'same' | 'valid';
}

const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Output size and leading pad of one axis, from TF's documented rule. */
function axis(n: number, k: number, s: number, padding: 'same' | 'valid'): [number, number] {
  if (padding === 'valid') return [Math.ceil((n - k + 1) / s), 0];
  const out = Math.ceil(n / s);
  return [out, Math.floor(Math.max((out - 1) * s + k - n, 0) / 2)];
}

/**
 * Reference pooling in float64. Returns the output and, per output element, the flat indices of
 * its window's real elements in row-major order (what the gradient references need).
 */
function refPool(kind: Kind, x: ArrayLike<number>, c: Case): { y: Float64Array; shape: number[]; windows: number[][] } {
  const [N, H, W, C] = c.x.length === 3 ? [1, ...c.x] : c.x;
  const [ph, pw] = pair(c.poolSize);
  const [sh, sw] = pair(c.strides ?? c.poolSize);
  const [OH, pt] = axis(H, ph, sh, c.padding ?? 'valid');
  const [OW, pl] = axis(W, pw, sw, c.padding ?? 'valid');
  const y = new Float64Array(N * OH * OW * C);
  const windows: number[][] = [];
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++)
        for (let ch = 0; ch < C; ch++) {
          const win: number[] = [];
          for (let ky = 0; ky < ph; ky++)
            for (let kx = 0; kx < pw; kx++) {
              const iy = oy * sh + ky - pt;
              const ix = ox * sw + kx - pl;
              if (iy >= 0 && iy < H && ix >= 0 && ix < W) win.push(((n * H + iy) * W + ix) * C + ch);
            }
          const vals = win.map((i) => x[i]);
          y[windows.length] = kind === 'max' ? Math.max(...vals) : vals.reduce((a, b) => a + b, 0) / vals.length;
          windows.push(win);
        }
  return { y, shape: c.x.length === 3 ? [OH, OW, C] : [N, OH, OW, C], windows };
}

/** Distinct values spaced 0.01 apart in random order: no ties, and a ±1e-3 nudge never reorders them. */
function distinct(n: number): Float64Array {
  const r = freshRng();
  const v = Float64Array.from({ length: n }, (_, i) => Math.fround((i - n / 2) * 0.01));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [v[i], v[j]] = [v[j], v[i]];
  }
  return v;
}

const FORWARD: Case[] = [
  { x: [1, 1, 1, 1], poolSize: 1 },
  { x: [1, 5, 5, 1], poolSize: 2 },
  { x: [3, 7, 7, 3], poolSize: 2, padding: 'same' },
  { x: [1, 13, 13, 5], poolSize: 3, strides: 2, padding: 'same' },
  { x: [3, 7, 5, 3], poolSize: [2, 3], strides: [1, 2] },
  { x: [1, 5, 7, 5], poolSize: 3, strides: 1, padding: 'same' },
  { x: [1, 1, 1, 3], poolSize: 3, padding: 'same' },
  { x: [2, 13, 7, 3], poolSize: [3, 1], strides: [2, 3], padding: 'same' },
  { x: [7, 7, 3], poolSize: 2, strides: 1 },
  { x: [2, 28, 28, 8], poolSize: 2 },
  // Channels a multiple of 4 with windows that do not overlap (max pooling's per-window kernels):
  // an uncovered last row and column, SAME padding, gaps between windows, 3x3 windows.
  { x: [3, 11, 11, 4], poolSize: 2 },
  { x: [2, 7, 9, 8], poolSize: 2, padding: 'same' },
  { x: [1, 13, 11, 4], poolSize: [2, 3], strides: [3, 4] },
  { x: [2, 7, 7, 12], poolSize: 3, padding: 'same' },
];

const opts = (c: Case) => ({ poolSize: c.poolSize, strides: c.strides, padding: c.padding });
const label = (c: Case) => `x ${JSON.stringify(c.x)} ${JSON.stringify(opts(c))}`;
const POOL = { max: nt.maxPool2d, avg: nt.avgPool2d };

describe.each(BACKENDS)('pooling on %s', (backend) => {
  const rtol = RTOL[backend];
  beforeAll(() => useBackend(backend));

  describe.each(['max', 'avg'] as const)('%sPool2d', (kind) => {
    const pool = POOL[kind];
    const input = (c: Case) => (kind === 'max' ? distinct(size(c.x)) : uniform(size(c.x)));

    it.each(FORWARD.map((c) => [label(c), c] as const))('forward matches float64: %s', async (_l, c) => {
      const x = input(c);
      const ref = refPool(kind, x, c);
      const y = nt.tidy(() => pool(nt.tensor(Float32Array.from(x), c.x), opts(c)));
      expect(y.shape).toEqual(ref.shape);
      expectAllClose(await y.data(), ref.y, { rtol, atol: 1e-6 });
      y.dispose();
    });

    it.each(FORWARD.map((c) => [label(c), c] as const))('gradient matches central differences: %s', async (_l, c) => {
      const x = input(c);
      const ref = refPool(kind, x, c);
      const r = uniform(ref.y.length);
      const g = nt.grad((t) => nt.sum(nt.mul(pool(t, opts(c)), nt.tensor(Float32Array.from(r), ref.shape))))(
        nt.tensor(Float32Array.from(x), c.x),
      );
      // Only the elements of a window change its output, so each central difference needs only those windows.
      const touching = Array.from({ length: x.length }, () => [] as number[]);
      ref.windows.forEach((win, o) => win.forEach((i) => touching[i].push(o)));
      const h = 1e-4;
      const expected = Array.from(x, (v, i) => {
        const local = (value: number) => {
          const xs = x.slice();
          xs[i] = value;
          return touching[i].reduce((acc, o) => {
            const vals = ref.windows[o].map((j) => xs[j]);
            return acc + r[o] * (kind === 'max' ? Math.max(...vals) : vals.reduce((a, b) => a + b, 0) / vals.length);
          }, 0);
        };
        return (local(v + h) - local(v - h)) / (2 * h);
      });
      expectAllClose(await g.data(), expected, { rtol: 10 * rtol, atol: 1e-5 });
      g.dispose();
    });

    it('checkGradients agrees', async () => {
      const x = nt.tensor(Float32Array.from(distinct(1 * 6 * 5 * 2)), [1, 6, 5, 2]);
      const r = nt.tensor(Float32Array.from(uniform(1 * 3 * 3 * 2)), [1, 3, 3, 2]);
      const result = await nt.checkGradients((t) => nt.sum(nt.mul(pool(t, { poolSize: 3, strides: 2, padding: 'same' }), r)), [x]);
      expect(result.maxRelativeError).toBeLessThan(1e-2);
      nt.dispose([x, r]);
    });

    it('names the op and the shapes in its errors', () => {
      nt.tidy(() => {
        const x = nt.zeros([1, 4, 4, 2]);
        expect(() => pool(nt.zeros([4, 4]), { poolSize: 2 })).toThrow(new RegExp(`${kind}Pool2d: expected x of rank 4 \\[N,H,W,C\\] or rank 3 \\[H,W,C\\], got \\[4,4\\]`));
        expect(() => pool(x, {} as { poolSize: number })).toThrow(new RegExp(`${kind}Pool2d: the poolSize option is required`));
        expect(() => pool(x, { poolSize: 0 })).toThrow(new RegExp(`${kind}Pool2d: poolSize must be a positive integer or a pair \\[h, w\\] of them, got 0`));
        expect(() => pool(x, { poolSize: 2, strides: [1, -1] })).toThrow(nt.ArgumentError);
        expect(() => pool(x, { poolSize: 2, padding: 'causal' as 'same' })).toThrow(new RegExp(`${kind}Pool2d: padding must be 'same' or 'valid'`));
        expect(() => pool(x, { poolSize: 5 })).toThrow(
          new RegExp(`${kind}Pool2d: output would be empty: input \\[1,4,4,2\\] with poolSize \\[5,5\\], strides \\[5,5\\] and 'valid' padding gives \\[1,0,0,2\\]`),
        );
        expect(() => pool(nt.zeros([1, 4, 4, 2], 'int32'), { poolSize: 2 })).toThrow(nt.DTypeError);
      });
    });
  });

  it('maxPool2d sends the gradient of a tied window to its first max in row-major order', async () => {
    // Every window of x is all equal: the top-left real element of each window gets its dy.
    const x = nt.zeros([1, 4, 5, 2]);
    const dy = Float32Array.from(uniform(1 * 4 * 5 * 2));
    const g = nt.grad((t) => nt.sum(nt.mul(nt.maxPool2d(t, { poolSize: 3, strides: 1, padding: 'same' }), nt.tensor(dy, [1, 4, 5, 2]))))(x);
    const expected = new Float64Array(40);
    for (let oy = 0; oy < 4; oy++)
      for (let ox = 0; ox < 5; ox++)
        for (let c = 0; c < 2; c++) expected[(Math.max(oy - 1, 0) * 5 + Math.max(ox - 1, 0)) * 2 + c] += dy[(oy * 5 + ox) * 2 + c];
    expectAllClose(await g.data(), expected, { rtol, atol: 1e-6 });
    nt.dispose([x, g]);
  });

  it.each([
    { x: [2, 7, 6, 3], poolSize: [3, 2], strides: [2, 1], padding: 'same' },
    { x: [2, 7, 9, 4], poolSize: 2, padding: 'same' },
  ] as Case[])('maxPool2d follows the first-max rule on inputs full of ties: x %j', async (c) => {
    const x = Float64Array.from(integers(size(c.x), 3));
    const ref = refPool('max', x, c);
    const r = uniform(ref.y.length);
    const expected = new Float64Array(x.length);
    ref.windows.forEach((win, o) => {
      const first = win.find((i) => x[i] === ref.y[o])!;
      expected[first] += r[o];
    });
    const g = nt.grad((t) => nt.sum(nt.mul(nt.maxPool2d(t, opts(c)), nt.tensor(Float32Array.from(r), ref.shape))))(
      nt.tensor(Float32Array.from(x), c.x),
    );
    expectAllClose(await g.data(), expected, { rtol, atol: 1e-6 });
    g.dispose();
  });
});
