// Unary and binary elementwise ops, forward and gradient, on every backend, against float64
// references written here (not by calling Neurite), on fresh random inputs of odd sizes.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { contiguousInput, elementwiseCall } from '../src/ops/elementwise/kernel.js';
import { E } from '../src/ops/elementwise/expr.js';
import { BACKENDS, RTOL, useBackend } from './helpers/backends.js';
import { expectAllClose } from './helpers/close.js';
import { uniform } from './helpers/random.js';

type Ref1 = (x: number) => number;
type Ref2 = (a: number, b: number) => number;

/** Each unary op: Neurite's function, its float64 reference and the input range it is defined on. */
const UNARY: { name: string; f: (x: nt.Tensor) => nt.Tensor; ref: Ref1; lo: number; hi: number; smooth?: boolean }[] = [
  { name: 'neg', f: nt.neg, ref: (x) => -x, lo: -3, hi: 3 },
  { name: 'exp', f: nt.exp, ref: Math.exp, lo: -3, hi: 3 },
  { name: 'log', f: nt.log, ref: Math.log, lo: 0.1, hi: 5 },
  { name: 'sqrt', f: nt.sqrt, ref: Math.sqrt, lo: 0.1, hi: 5 },
  { name: 'square', f: nt.square, ref: (x) => x * x, lo: -3, hi: 3 },
  { name: 'abs', f: nt.abs, ref: Math.abs, lo: -3, hi: 3 },
  { name: 'relu', f: nt.relu, ref: (x) => Math.max(x, 0), lo: -3, hi: 3 },
  { name: 'leakyRelu', f: (x) => nt.leakyRelu(x, { alpha: 0.1 }), ref: (x) => (x > 0 ? x : 0.1 * x), lo: -3, hi: 3 },
  { name: 'elu', f: (x) => nt.elu(x, { alpha: 0.7 }), ref: (x) => (x > 0 ? x : 0.7 * (Math.exp(x) - 1)), lo: -3, hi: 3 },
  { name: 'sigmoid', f: nt.sigmoid, ref: (x) => 1 / (1 + Math.exp(-x)), lo: -6, hi: 6 },
  { name: 'tanh', f: nt.tanh, ref: Math.tanh, lo: -4, hi: 4 },
  { name: 'clipByValue', f: (x) => nt.clipByValue(x, -0.5, 0.8), ref: (x) => Math.min(Math.max(x, -0.5), 0.8), lo: -2, hi: 2 },
];

const BINARY: { name: string; f: (a: nt.Tensor, b: nt.Tensor) => nt.Tensor; ref: Ref2; lo: number; hi: number; bLo?: number; bHi?: number }[] = [
  { name: 'add', f: nt.add, ref: (a, b) => a + b, lo: -3, hi: 3 },
  { name: 'sub', f: nt.sub, ref: (a, b) => a - b, lo: -3, hi: 3 },
  { name: 'mul', f: nt.mul, ref: (a, b) => a * b, lo: -3, hi: 3 },
  { name: 'div', f: nt.div, ref: (a, b) => a / b, lo: -3, hi: 3, bLo: 0.5, bHi: 3 },
  { name: 'pow', f: nt.pow, ref: Math.pow, lo: 0.2, hi: 3, bLo: -2, bHi: 2 },
  { name: 'maximum', f: nt.maximum, ref: Math.max, lo: -3, hi: 3 },
  { name: 'minimum', f: nt.minimum, ref: Math.min, lo: -3, hi: 3 },
];

const COMPARISONS: { name: string; f: (a: nt.Tensor, b: nt.Tensor) => nt.Tensor; ref: Ref2 }[] = [
  { name: 'greater', f: nt.greater, ref: (a, b) => +(a > b) },
  { name: 'greaterEqual', f: nt.greaterEqual, ref: (a, b) => +(a >= b) },
  { name: 'less', f: nt.less, ref: (a, b) => +(a < b) },
  { name: 'lessEqual', f: nt.lessEqual, ref: (a, b) => +(a <= b) },
  { name: 'equal', f: nt.equal, ref: (a, b) => +(a === b) },
  { name: 'notEqual', f: nt.notEqual, ref: (a, b) => +(a !== b) },
];

// 1028 is a multiple of 4 (the four-lane kernel) but not of a workgroup's 4 × 64 elements.
const SIZES = [1, 3, 7, 13, 31, 257, 1028, 4099];
const H = 1e-6;

/** Central difference of a float64 function: the gradient reference. */
const derivative = (f: Ref1, x: number): number => (f(x + H) - f(x - H)) / (2 * H);

/** Broadcast index: element `i` of `outShape` read from an input of `shape` (right-aligned). */
function broadcastIndex(i: number, outShape: number[], shape: number[]): number {
  let idx = 0;
  let stride = 1;
  let rem = i;
  for (let d = outShape.length - 1; d >= 0; d--) {
    const c = rem % outShape[d];
    rem = Math.floor(rem / outShape[d]);
    const j = d - (outShape.length - shape.length);
    if (j >= 0) {
      if (shape[j] !== 1) idx += c * stride;
      stride *= shape[j];
    }
  }
  return idx;
}

describe.each(BACKENDS)('elementwise on %s', (backend) => {
  const rtol = RTOL[backend];
  beforeAll(() => useBackend(backend));

  describe.each(UNARY)('$name', ({ f, ref, lo, hi }) => {
    it.each(SIZES)('forward matches float64 on %i elements', async (n) => {
      const x = uniform(n, lo, hi);
      const y = nt.tidy(() => f(nt.tensor(Float32Array.from(x))));
      expectAllClose(await y.data(), Array.from(x, ref), { rtol, atol: 1e-6 });
      y.dispose();
    });

    it('gradient matches central differences of the float64 reference', async () => {
      const x = uniform(31, lo, hi).map((v) => (Math.abs(v) < 1e-3 ? v + 0.01 : v));
      const w = uniform(31, -1, 1);
      const g = nt.grad((t) => nt.sum(nt.mul(f(t), nt.tensor(Float32Array.from(w)))))(nt.tensor(Float32Array.from(x)));
      expectAllClose(await g.data(), Array.from(x, (v, i) => w[i] * derivative(ref, v)), { rtol: 10 * rtol, atol: 1e-5 });
      g.dispose();
    });
  });

  describe.each(BINARY)('$name', ({ f, ref, lo, hi, bLo, bHi }) => {
    const cases: [number[], number[]][] = [
      [[13], [13]],
      [[3, 7], [7]],
      [[5, 1, 3], [1, 4, 1]],
      [[1], [2, 3, 31]],
      [[], [17]],
    ];
    it.each(cases)('forward broadcasts %j with %j', async (sa, sb) => {
      const out = nt.tidy(() => {
        const a = uniform(sa.reduce((p, d) => p * d, 1), lo, hi);
        const b = uniform(sb.reduce((p, d) => p * d, 1), bLo ?? lo, bHi ?? hi);
        const y = f(nt.tensor(Float32Array.from(a), sa), nt.tensor(Float32Array.from(b), sb));
        const outShape = [...y.shape];
        const expected = Array.from({ length: y.size }, (_, i) => ref(a[broadcastIndex(i, outShape, sa)], b[broadcastIndex(i, outShape, sb)]));
        return { y, expected };
      });
      expectAllClose(await out.y.data(), out.expected, { rtol, atol: 1e-6 });
      out.y.dispose();
    });

    it.each(cases)('gradient through broadcasting %j with %j', async (sa, sb) => {
      const a = uniform(sa.reduce((p, d) => p * d, 1), lo, hi);
      const b = uniform(sb.reduce((p, d) => p * d, 1), bLo ?? lo, bHi ?? hi);
      const outShape = nt.tidy(() => [...f(nt.zeros(sa), nt.ones(sb)).shape]);
      const n = outShape.reduce((p, d) => p * d, 1);
      const w = uniform(n);
      const [ga, gb] = nt.grads((x, y) => nt.sum(nt.mul(f(x, y), nt.tensor(Float32Array.from(w), outShape))))([
        nt.tensor(Float32Array.from(a), sa),
        nt.tensor(Float32Array.from(b), sb),
      ]);
      const refA = new Float64Array(a.length);
      const refB = new Float64Array(b.length);
      for (let i = 0; i < n; i++) {
        const ia = broadcastIndex(i, outShape, sa);
        const ib = broadcastIndex(i, outShape, sb);
        refA[ia] += w[i] * derivative((v) => ref(v, b[ib]), a[ia]);
        refB[ib] += w[i] * derivative((v) => ref(a[ia], v), b[ib]);
      }
      expectAllClose(await ga.data(), refA, { rtol: 10 * rtol, atol: 1e-4 }, 'd/da');
      expectAllClose(await gb.data(), refB, { rtol: 10 * rtol, atol: 1e-4 }, 'd/db');
      nt.dispose([ga, gb]);
    });
  });

  describe.each(BINARY)('$name with a number operand', ({ f, ref, lo, hi, bLo, bHi }) => {
    const g = f as unknown as (a: nt.Tensor | number, b: nt.Tensor | number) => nt.Tensor;
    it.each(['a', 'b'] as const)('forward and gradient with the number as %s', async (side) => {
      const x = uniform(13, side === 'a' ? (bLo ?? lo) : lo, side === 'a' ? (bHi ?? hi) : hi);
      const c = Math.fround(side === 'a' ? 0.5 + (lo + hi) / 4 + 0.3 : ((bLo ?? lo) + (bHi ?? hi)) / 2 + 0.37);
      const w = uniform(13);
      const apply = (t: nt.Tensor | number) => (side === 'a' ? g(c, t) : g(t, c));
      const refOf = (v: number) => (side === 'a' ? ref(c, v) : ref(v, c));
      const y = nt.tidy(() => apply(nt.tensor(Float32Array.from(x))));
      expectAllClose(await y.data(), Array.from(x, refOf), { rtol, atol: 1e-6 });
      const gx = nt.grad((t) => nt.sum(nt.mul(apply(t), nt.tensor(Float32Array.from(w)))))(nt.tensor(Float32Array.from(x)));
      expectAllClose(await gx.data(), Array.from(x, (v, i) => w[i] * derivative(refOf, v)), { rtol: 10 * rtol, atol: 1e-4 });
      nt.dispose([y, gx]);
    });
  });

  it.each(COMPARISONS)('$name compares elementwise and returns 0/1', async ({ f, ref }) => {
    const a = uniform(37, -1, 1).map((v, i) => (i % 5 === 0 ? 0.5 : v));
    const b = uniform(37, -1, 1).map((v, i) => (i % 5 === 0 ? 0.5 : v));
    const y = nt.tidy(() => f(nt.tensor(Float32Array.from(a)), nt.tensor(Float32Array.from(b))));
    expect(Array.from(await y.data())).toEqual(Array.from(a, (v, i) => ref(v, b[i])));
    y.dispose();
  });

  it('rejects shapes that do not broadcast, naming the op and both shapes', () => {
    nt.tidy(() => {
      expect(() => nt.add(nt.zeros([2, 3]), nt.zeros([4]))).toThrow(/add: shapes \[2,3\] and \[4\] do not broadcast/);
    });
  });

  it('rejects mixed dtypes', () => {
    nt.tidy(() => {
      expect(() => nt.mul(nt.zeros([2]), nt.zeros([2], 'int32'))).toThrow(nt.DTypeError);
      expect(() => nt.exp(nt.zeros([2], 'int32'))).toThrow(/exp: expected a float32 tensor, got int32 \[2\]/);
    });
  });

  it('rejects a disposed tensor, naming the op', () => {
    const x = nt.ones([3]);
    x.dispose();
    expect(() => nt.relu(x)).toThrow(/relu: tensor #\d+ of shape \[3\] was disposed/);
  });

  it('handles empty tensors', async () => {
    const y = nt.tidy(() => nt.add(nt.zeros([0, 3]), nt.ones([3])));
    expect(y.shape).toEqual([0, 3]);
    expect((await y.data()).length).toBe(0);
    y.dispose();
  });
});

describe.each(BACKENDS)('four elements per invocation on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('gives a fused chain with a scalar operand, NaN, infinities and an int32 result the scalar kernel\'s values', async () => {
    // The same formula on 1028 elements (four lanes) and on 1029 (one lane), against float64.
    for (const n of [1028, 1029]) {
      const x = Float32Array.from(uniform(n, -3, 3));
      x[5] = NaN;
      x[6] = Infinity;
      x[7] = -Infinity;
      const [xt, st] = [nt.tensor(x, [n]), nt.scalar(0.75)];
      const y = nt.tidy(() => nt.relu(nt.sub(nt.mul(xt, st), 0.5)));
      const k = nt.tidy(() => nt.cast(nt.mul(xt, 10), 'int32'));
      const got = Array.from(await y.data());
      expect(got[5]).toBeNaN();
      expect(got.slice(6, 8)).toEqual([Infinity, 0]);
      got[5] = 0;
      expectAllClose(got, Array.from(x, (v, i) => (i === 5 ? 0 : Math.max(v * 0.75 - 0.5, 0))), { rtol: RTOL[backend] });
      const wantInt = Array.from(x, (v) => {
        const f = Math.fround(v * 10);
        return Number.isNaN(f) ? 0 : Math.trunc(Math.min(Math.max(f, -2147483648), 2147483520)) + 0; // + 0: no −0 in an int32
      });
      expect(Array.from(await k.data())).toEqual(wantInt);
      nt.dispose([xt, st, y, k]);
    }
  });
});

describe('which elementwise kernel', () => {
  const relu = E.max(E.input(0), E.const(0));
  const strided = (shape: number[]) => ({ dtype: 'float32' as const, strides: [1, shape[0]], offset: 0 });

  it('takes four lanes for contiguous or single-value inputs over a multiple of 4 elements, one otherwise', () => {
    const contiguous = elementwiseCall('relu', relu, [contiguousInput('float32', [8, 6])], [8, 6], 'float32');
    expect(contiguous.key).toMatch(/:v4$/);
    expect(contiguous.workgroups[0] * 64).toBeGreaterThanOrEqual(12);
    const single = elementwiseCall('add', E.add(E.input(0), E.input(1)), [contiguousInput('float32', [8, 6]), { dtype: 'float32', strides: [0, 0], offset: 3 }], [8, 6], 'float32');
    expect(single.key).toMatch(/:v4$/);
    expect(single.wgsl()).toContain('in1[p.o1]');
    expect(elementwiseCall('relu', relu, [contiguousInput('float32', [7, 3])], [7, 3], 'float32').key).not.toMatch(/:v4$/);
    expect(elementwiseCall('relu', relu, [strided([6, 8])], [8, 6], 'float32').key).not.toMatch(/:v4$/);
  });

  it('splits a four-lane kernel into one-lane parts, whose ranges need not be multiples of 4', () => {
    const call = elementwiseCall('relu', relu, [contiguousInput('float32', [1000])], [1000], 'float32');
    const parts = call.split!({ maxElements: 256, alignElements: 2 });
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      expect(part.key).not.toMatch(/:v4$/);
      expect(part.wgsl()).not.toContain('vec4');
    }
  });
});
