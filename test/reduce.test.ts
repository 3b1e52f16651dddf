// Reductions (sum, mean, max, min, argMax, argMin, logSumExp) over single, several, non-adjacent,
// negative and all axes, with and without keepDims, on every backend, against float64 code here;
// gradients against central differences of that code; and the errors they throw.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { BACKENDS, RTOL, useBackend } from './helpers/backends.js';
import { expectAllClose } from './helpers/close.js';
import { coordsOf, numericGradient, sizeOf, weighted } from './helpers/numeric.js';
import { freshRng, uniform } from './helpers/random.js';

type Reducer = (values: number[]) => number;

const REF: Record<string, Reducer> = {
  sum: (v) => v.reduce((a, b) => a + b, 0),
  mean: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  max: (v) => Math.max(...v),
  min: (v) => Math.min(...v),
  logSumExp: (v) => {
    const m = Math.max(...v);
    return m + Math.log(v.reduce((a, b) => a + Math.exp(b - m), 0));
  },
  // The first index on ties.
  argMax: (v) => v.indexOf(Math.max(...v)),
  argMin: (v) => v.indexOf(Math.min(...v)),
};

const OPS: Record<string, (x: nt.Tensor, o: nt.ReduceOptions) => nt.Tensor> = {
  sum: nt.sum,
  mean: nt.mean,
  max: nt.max,
  min: nt.min,
  logSumExp: nt.logSumExp,
};

/** Non-negative sorted axes; all when undefined. */
function normAxes(axis: number | number[] | undefined, rank: number): number[] {
  if (axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  return [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
}

const layouts = new Map<string, { outIndex: Int32Array; outShape: number[] }>();

/** For each input element, the output element it reduces into (cached: references run many times). */
function layoutOf(shape: number[], axes: number[]): { outIndex: Int32Array; outShape: number[] } {
  const key = `${shape}|${axes}`;
  let layout = layouts.get(key);
  if (!layout) {
    const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const outIndex = new Int32Array(sizeOf(shape));
    for (let i = 0; i < outIndex.length; i++) {
      const c = coordsOf(i, shape);
      let o = 0;
      for (const k of kept) o = o * shape[k] + c[k];
      outIndex[i] = o;
    }
    layout = { outIndex, outShape: kept.map((i) => shape[i]) };
    layouts.set(key, layout);
  }
  return layout;
}

/** The values of each output element, in row-major order of the reduced dims. */
function groups(x: ArrayLike<number>, shape: number[], axes: number[]): { groups: number[][]; outShape: number[] } {
  const { outIndex, outShape } = layoutOf(shape, axes);
  const out: number[][] = Array.from({ length: sizeOf(outShape) }, () => []);
  for (let i = 0; i < x.length; i++) out[outIndex[i]].push(x[i]);
  return { groups: out, outShape };
}

function reduceRef(name: string, x: ArrayLike<number>, shape: number[], axis: number | number[] | undefined): Float64Array {
  return Float64Array.from(groups(x, shape, normAxes(axis, shape.length)).groups, REF[name]);
}

const CASES: { shape: number[]; axis?: number | number[] }[] = [
  { shape: [7] },
  { shape: [7], axis: 0 },
  { shape: [13, 31], axis: 1 },
  { shape: [13, 31], axis: -2 },
  { shape: [3, 5], axis: [0, 1] },
  { shape: [2, 3, 4, 5], axis: [1, 2] },
  { shape: [2, 3, 4, 5], axis: [0, 2] },
  { shape: [2, 3, 4, 5], axis: [-1, -3] },
  { shape: [2, 3, 4, 5], axis: [0, 1, 3] },
  { shape: [3, 1, 7], axis: 1 },
  { shape: [1, 1, 1] },
  { shape: [5, 67], axis: 0 },
];

/** Long reductions into few outputs: the two-pass path (chunks, then partials), with a ragged tail. */
const LONG_CASES: { shape: number[]; axis?: number | number[] }[] = [
  { shape: [2, 8999], axis: 1 },
  { shape: [3, 4099, 3], axis: [0, 1] },
  { shape: [20_011] },
];

describe.each(BACKENDS)('reductions on %s', (backend) => {
  const rtol = RTOL[backend];
  beforeAll(() => useBackend(backend));

  describe.each(Object.keys(OPS))('%s', (name) => {
    const f = OPS[name];

    it.each(CASES)('forward over $shape, axis $axis, with and without keepDims', async ({ shape, axis }) => {
      const x = uniform(sizeOf(shape), -3, 3);
      const [y, yk] = nt.tidy(() => {
        const t = nt.tensor(Float32Array.from(x), shape);
        return [f(t, { axis }), f(t, { axis, keepDims: true })];
      });
      const axes = normAxes(axis, shape.length);
      expect(y.shape).toEqual(shape.filter((_, i) => !axes.includes(i)));
      expect(yk.shape).toEqual(shape.map((d, i) => (axes.includes(i) ? 1 : d)));
      const expected = reduceRef(name, x, shape, axis);
      expectAllClose(await y.data(), expected, { rtol, atol: 1e-5 });
      expectAllClose(await yk.data(), expected, { rtol, atol: 1e-5 }, 'keepDims');
      nt.dispose([y, yk]);
    });

    it.each(CASES.filter((_, i) => i % 2 === 0 || i > 4))('gradient over $shape, axis $axis', async ({ shape, axis }) => {
      const x = uniform(sizeOf(shape), -3, 3);
      const outSize = reduceRef(name, x, shape, axis).length;
      const w = uniform(outSize);
      const g = nt.grad((t) => nt.sum(nt.mul(nt.reshape(f(t, { axis }), [outSize]), nt.tensor(Float32Array.from(w)))))(
        nt.tensor(Float32Array.from(x), shape),
      );
      const expected = numericGradient((v) => weighted(reduceRef(name, v, shape, axis), w), x);
      expectAllClose(await g.data(), expected, { rtol: 10 * rtol, atol: 1e-5 });
      g.dispose();
    });

    it.each(LONG_CASES)('long reduction over $shape, axis $axis: values and sampled gradient', async ({ shape, axis }) => {
      const x = uniform(sizeOf(shape), -3, 3);
      const { groups: parts } = groups(x, shape, normAxes(axis, shape.length));
      const y = nt.tidy(() => f(nt.tensor(Float32Array.from(x), shape), { axis }));
      // A long f32 sum is compared relative to the size of what it adds up (Σ|x| of a group).
      const scale = Math.max(...parts.map((g) => g.reduce((a, v) => a + Math.abs(v), 0)));
      const expected = reduceRef(name, x, shape, axis);
      expectAllClose(await y.data(), expected, { rtol, atol: (backend === 'cpu' ? 1e-7 : 1e-6) * scale });
      y.dispose();
      const w = uniform(expected.length);
      const g = nt.grad((t) => nt.sum(nt.mul(nt.reshape(f(t, { axis }), [expected.length]), nt.tensor(Float32Array.from(w)))))(
        nt.tensor(Float32Array.from(x), shape),
      );
      // Sampled elements, plus the largest and smallest (where max and min send their gradient).
      const r = freshRng();
      const sample = [...Array.from({ length: 16 }, () => Math.floor(r() * x.length)), x.indexOf(Math.max(...x)), x.indexOf(Math.min(...x))];
      const numeric = numericGradient((v) => weighted(reduceRef(name, v, shape, axis), w), x, 1e-7, sample);
      const analytic = await g.data();
      expectAllClose(
        sample.map((i) => analytic[i]),
        sample.map((i) => numeric[i]),
        { rtol: 10 * rtol, atol: 1e-5 },
      );
      g.dispose();
    });
  });

  describe.each(['argMax', 'argMin'] as const)('%s', (name) => {
    const f = name === 'argMax' ? nt.argMax : nt.argMin;
    const cases: [number[], number][] = [
      [[7], 0],
      [[13, 31], 1],
      [[13, 31], 0],
      [[2, 3, 4, 5], -3],
      [[3, 1, 7], 1],
    ];
    it.each(cases)('over %j axis %i returns int32 indices (the first on ties)', async (shape, axis) => {
      // Small integers make ties common, which exercises "first wins".
      const r = freshRng();
      const x = Float64Array.from({ length: sizeOf(shape) }, () => Math.floor(r() * 4));
      const y = nt.tidy(() => f(nt.tensor(Float32Array.from(x), shape), { axis }));
      expect(y.dtype).toBe('int32');
      expect(Array.from(await y.data())).toEqual(Array.from(reduceRef(name, x, shape, axis)));
      y.dispose();
    });

    it('defaults to the last axis', async () => {
      const x = uniform(3 * 11);
      const y = nt.tidy(() => f(nt.tensor(Float32Array.from(x), [3, 11])));
      expect(Array.from(await y.data())).toEqual(Array.from(reduceRef(name, x, [3, 11], 1)));
      y.dispose();
    });

    it('has no gradient (zero flows back)', async () => {
      const g = nt.grad((t) => nt.sum(nt.cast(f(t), 'float32')))(nt.tensor(Float32Array.from(uniform(5))));
      expect(Array.from(await g.data())).toEqual([0, 0, 0, 0, 0]);
      g.dispose();
    });
  });

  it('logSumExp is stable for large inputs', async () => {
    const x = uniform(31, -1, 1).map((v) => v + 1e4);
    const y = nt.tidy(() => nt.logSumExp(nt.tensor(Float32Array.from(x))));
    expectAllClose(await y.data(), [REF.logSumExp(Array.from(x))], { rtol });
    y.dispose();
  });

  it('sums int32 tensors to int32', async () => {
    const r = freshRng();
    const x = Int32Array.from({ length: 3 * 17 }, () => Math.floor(r() * 200) - 100);
    const y = nt.tidy(() => nt.sum(nt.tensor(x, [3, 17]), { axis: 1 }));
    expect(y.dtype).toBe('int32');
    expect(Array.from(await y.data())).toEqual(Array.from(reduceRef('sum', x, [3, 17], 1)));
    y.dispose();
  });

  it('max and min propagate NaN', async () => {
    const y = nt.tidy(() => {
      const t = nt.tensor([1, NaN, 3, 2]);
      return nt.concat([nt.reshape(nt.max(t), [1]), nt.reshape(nt.min(t), [1])]);
    });
    expect(Array.from(await y.data()).every(Number.isNaN)).toBe(true);
    y.dispose();
  });

  it('sums an empty dim to zero', async () => {
    const y = nt.tidy(() => nt.sum(nt.zeros([3, 0]), { axis: 1 }));
    expect(Array.from(await y.data())).toEqual([0, 0, 0]);
    y.dispose();
  });

  it('rejects an axis out of range, naming the op, the shape and the valid range', () => {
    nt.tidy(() => {
      const x = nt.zeros([2, 3]);
      expect(() => nt.sum(x, { axis: 2 })).toThrow(/sum: axis 2 is out of range for a tensor of shape \[2,3\] \(expected an integer in \[-2, 1\]\)/);
      expect(() => nt.max(x, { axis: [0, -3] })).toThrow(/max: axis -3 is out of range/);
      expect(() => nt.argMax(x, { axis: 5 })).toThrow(nt.ShapeError);
      expect(() => nt.logSumExp(x, { axis: 1.5 })).toThrow(/logSumExp: axis 1.5/);
    });
  });

  it('rejects argMax/max of an empty dim and mean of int32', () => {
    nt.tidy(() => {
      expect(() => nt.argMax(nt.zeros([0]))).toThrow(/argMax: cannot reduce an empty dim of \[0\]/);
      expect(() => nt.max(nt.zeros([2, 0]), { axis: 1 })).toThrow(/max: cannot reduce an empty dim/);
      expect(() => nt.mean(nt.zeros([2], 'int32'))).toThrow(nt.DTypeError);
    });
  });
});
