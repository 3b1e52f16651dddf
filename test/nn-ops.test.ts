// softmax and logSoftmax (forward, stability, gradient) and the device-side random ops
// (dropout, randomUniform) on every backend, against float64 code written here; and the check
// that a seed gives the same dropout mask on the CPU and on WebGPU.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { BACKENDS, RTOL, useBackend } from './helpers/backends.js';
import { expectAllClose } from './helpers/close.js';
import { coordsOf, numericGradient, sizeOf, weighted } from './helpers/numeric.js';
import { freshRng, uniform } from './helpers/random.js';

const rowCache = new Map<string, number[][]>();

/** Flat indices of every row along `axis`. */
function rowsOf(shape: number[], axis: number): number[][] {
  const cacheKey = `${shape}:${axis}`;
  if (rowCache.has(cacheKey)) return rowCache.get(cacheKey)!;
  const rows = new Map<string, number[]>();
  for (let i = 0; i < sizeOf(shape); i++) {
    const c = coordsOf(i, shape);
    c[axis] = 0;
    const key = c.join(',');
    if (!rows.has(key)) rows.set(key, []);
    rows.get(key)!.push(i);
  }
  rowCache.set(cacheKey, [...rows.values()]);
  return rowCache.get(cacheKey)!;
}

function softmaxRef(x: ArrayLike<number>, shape: number[], axis: number, log: boolean): Float64Array {
  const y = new Float64Array(x.length);
  for (const row of rowsOf(shape, axis)) {
    const m = Math.max(...row.map((i) => x[i]));
    const s = row.reduce((a, i) => a + Math.exp(x[i] - m), 0);
    for (const i of row) y[i] = log ? x[i] - m - Math.log(s) : Math.exp(x[i] - m) / s;
  }
  return y;
}

const CASES: { shape: number[]; axis?: number }[] = [
  { shape: [1, 1] },
  { shape: [7, 3] },
  { shape: [13, 31] },
  { shape: [5, 67], axis: 0 },
  { shape: [2, 5, 3], axis: 1 },
  { shape: [3, 4, 5], axis: -3 },
  { shape: [11] },
];

describe.each(BACKENDS)('nn ops on %s', (backend) => {
  const rtol = RTOL[backend];
  beforeAll(() => useBackend(backend));

  describe.each([
    { name: 'softmax', f: nt.softmax, log: false },
    { name: 'logSoftmax', f: nt.logSoftmax, log: true },
  ])('$name', ({ name, f, log }) => {
    it.each(CASES)('forward over $shape along axis $axis', async ({ shape, axis }) => {
      const ax = axis === undefined ? shape.length - 1 : axis < 0 ? axis + shape.length : axis;
      const x = uniform(sizeOf(shape), -4, 4);
      const y = nt.tidy(() => f(nt.tensor(Float32Array.from(x), shape), { axis }));
      expect(y.shape).toEqual(shape);
      expectAllClose(await y.data(), softmaxRef(x, shape, ax, log), { rtol, atol: 1e-6 });
      y.dispose();
    });

    it.each(CASES.slice(1))('gradient over $shape along axis $axis', async ({ shape, axis }) => {
      const ax = axis === undefined ? shape.length - 1 : axis < 0 ? axis + shape.length : axis;
      const x = uniform(sizeOf(shape), -3, 3);
      const w = uniform(x.length);
      const g = nt.grad((t) => nt.sum(nt.mul(f(t, { axis }), nt.tensor(Float32Array.from(w), shape))))(nt.tensor(Float32Array.from(x), shape));
      const expected = numericGradient((v) => weighted(softmaxRef(v, shape, ax, log), w), x);
      expectAllClose(await g.data(), expected, { rtol: 10 * rtol, atol: 1e-5 });
      g.dispose();
    });

    it('stays finite and exact for logits like ±1e4', async () => {
      const shape = [5, 9];
      const x = uniform(45, -3, 3).map((v, i) => Math.fround(v + (i % 2 ? 1e4 : -1e4)));
      const y = nt.tidy(() => f(nt.tensor(Float32Array.from(x), shape)));
      const values = await y.data();
      expect(values.every(Number.isFinite)).toBe(true);
      expectAllClose(values, softmaxRef(x, shape, 1, log), { rtol, atol: log ? 1e-6 : 1e-7 });
      y.dispose();
    });

    it('runs one kernel forward and one backward', () => {
      nt.tidy(() => {
        const x = nt.tensor(Float32Array.from(uniform(12)), [3, 4]);
        nt.resetStats();
        f(x);
        expect(nt.stats().dispatches).toBe(1);
        const dy = nt.ones([3, 4]);
        nt.flush(); // computes dy, which is lazy like every elementwise value
        nt.resetStats();
        nt.grad((t) => f(t))(x, dy);
        expect(nt.stats().dispatches).toBe(2); // the forward again, and the backward
      });
    });

    it('rejects int32 logits and a bad axis', () => {
      nt.tidy(() => {
        expect(() => f(nt.zeros([2, 3], 'int32'))).toThrow(nt.DTypeError);
        expect(() => f(nt.zeros([2, 3]), { axis: 2 })).toThrow(new RegExp(`^${name}: axis 2 is out of range for a tensor of shape \\[2,3\\]`));
      });
    });
  });

  describe('dropout', () => {
    it('drops a fraction ≈ rate and scales the rest by 1/(1 − rate)', async () => {
      const n = 100_003;
      const rate = 0.3;
      const x = uniform(n, 0.5, 2);
      const y = nt.tidy(() => nt.dropout(nt.tensor(Float32Array.from(x)), { rate, seed: 12345 }));
      const values = await y.data();
      let zeros = 0;
      let worst = 0;
      for (let i = 0; i < n; i++) {
        if (values[i] === 0) zeros++;
        else worst = Math.max(worst, Math.abs(values[i] - x[i] / (1 - rate)) / Math.abs(x[i]));
      }
      expect(worst, 'relative error of the kept values').toBeLessThan(2e-7);
      // Binomial(n, rate): 6 standard deviations is a bound a correct generator never crosses.
      const sd = Math.sqrt((rate * (1 - rate)) / n);
      expect(Math.abs(zeros / n - rate)).toBeLessThan(6 * sd);
      y.dispose();
    });

    it('masks neighbouring elements independently (no stripes)', async () => {
      const n = 50_001;
      const y = nt.tidy(() => nt.dropout(nt.ones([n]), { rate: 0.5, seed: 7 }));
      const v = await y.data();
      // For independent fair coins, P(both dropped) = 1/4 for neighbours and for elements 64 apart.
      for (const lag of [1, 64]) {
        let both = 0;
        for (let i = 0; i + lag < n; i++) if (v[i] === 0 && v[i + lag] === 0) both++;
        const p = both / (n - lag);
        expect(Math.abs(p - 0.25), `lag ${lag}`).toBeLessThan(6 * Math.sqrt((0.25 * 0.75) / n));
      }
      y.dispose();
    });

    it('gives the same mask for the same seed, another for another seed', async () => {
      const [a, b, c] = nt.tidy(() => {
        const x = nt.ones([1001]);
        return [nt.dropout(x, { rate: 0.5, seed: 3 }), nt.dropout(x, { rate: 0.5, seed: 3 }), nt.dropout(x, { rate: 0.5, seed: 4 })];
      });
      const [va, vb, vc] = await Promise.all([a.data(), b.data(), c.data()]);
      expect(Array.from(va)).toEqual(Array.from(vb));
      expect(Array.from(va)).not.toEqual(Array.from(vc));
      nt.dispose([a, b, c]);
    });

    it('has gradient dy·mask/(1 − rate)', async () => {
      const rate = 0.4;
      const x = uniform(257, 0.5, 1.5);
      const w = uniform(257);
      const xt = nt.tensor(Float32Array.from(x));
      const y = nt.dropout(xt, { rate, seed: 99 });
      const g = nt.grad((t) => nt.sum(nt.mul(nt.dropout(t, { rate, seed: 99 }), nt.tensor(Float32Array.from(w)))))(xt);
      const mask = Array.from(await y.data(), (v) => (v === 0 ? 0 : 1));
      expectAllClose(await g.data(), Array.from(w, (wi, i) => (wi * mask[i]) / (1 - rate)), { rtol, atol: 1e-6 });
      nt.dispose([xt, y, g]);
    });

    it('returns x itself for rate 0 and rejects rates outside [0, 1)', () => {
      nt.tidy(() => {
        const x = nt.ones([3]);
        expect(nt.dropout(x, { rate: 0 })).toBe(x);
        expect(() => nt.dropout(x, { rate: 1 })).toThrow(/dropout: rate must be in \[0, 1\), got 1/);
        expect(() => nt.dropout(x, { rate: -0.1 })).toThrow(nt.ArgumentError);
        expect(() => nt.dropout(x, { rate: 0.5, seed: 1.5 })).toThrow(/dropout: seed must be an integer/);
        expect(() => nt.dropout(nt.ones([3], 'int32'), { rate: 0.5 })).toThrow(nt.DTypeError);
      });
    });
  });

  describe('randomUniform', () => {
    it('draws from [minval, maxval) with the right mean and variance', async () => {
      const n = 65_537;
      const [lo, hi] = [-2, 3];
      const y = nt.randomUniform([n], { minval: lo, maxval: hi, seed: 2024 });
      const v = await y.data();
      let s = 0;
      let s2 = 0;
      let outside = 0;
      for (const u of v) {
        if (!(u >= lo && u < hi)) outside++;
        s += u;
        s2 += u * u;
      }
      expect(outside, 'values outside [minval, maxval)').toBe(0);
      const meanV = s / n;
      const variance = s2 / n - meanV * meanV;
      const sd = (hi - lo) / Math.sqrt(12);
      expect(Math.abs(meanV - (lo + hi) / 2)).toBeLessThan((6 * sd) / Math.sqrt(n));
      expect(Math.abs(variance / (sd * sd) - 1)).toBeLessThan(0.05);
      y.dispose();
    });

    it('is reproducible from its seed, has the given shape and defaults to [0, 1)', async () => {
      const seed = Math.floor(freshRng()() * 1e9);
      const a = nt.randomUniform([3, 7], { seed });
      const b = nt.randomUniform([3, 7], { seed });
      expect(a.shape).toEqual([3, 7]);
      const va = await a.data();
      expect(Array.from(va)).toEqual(Array.from(await b.data()));
      expect(va.every((u) => u >= 0 && u < 1)).toBe(true);
      nt.dispose([a, b]);
    });

    it('rejects bad bounds and shapes', () => {
      expect(() => nt.randomUniform([2], { minval: 1, maxval: 0 })).toThrow(/randomUniform: expected finite minval ≤ maxval/);
      expect(() => nt.randomUniform([2, -1])).toThrow(nt.ShapeError);
    });
  });
});

describe.runIf(BACKENDS.includes('webgpu'))('random ops agree across backends', () => {
  afterAll(() => useBackend('cpu'));

  it('the same seed gives the same dropout mask and uniform values on the CPU and on WebGPU', async () => {
    const shape = [37, 101];
    const x = uniform(sizeOf(shape), 0.5, 2);
    const seed = Math.floor(freshRng()() * 2 ** 32);
    const run = async () => {
      const [d, u] = nt.tidy(() => [
        nt.dropout(nt.tensor(Float32Array.from(x), shape), { rate: 0.37, seed }),
        nt.randomUniform(shape, { minval: -1, maxval: 1, seed }),
      ]);
      const out = { d: await d.data(), u: await u.data() };
      nt.dispose([d, u]);
      return out;
    };
    await useBackend('cpu');
    const cpu = await run();
    await useBackend('webgpu');
    const gpu = await run();
    // The mask and the kept values are exact on both (u is exact in f32; x·scale is one rounding).
    expect(Array.from(gpu.d)).toEqual(Array.from(cpu.d));
    // minval + range·u may be fused into one rounding on a GPU: allow an ulp.
    expectAllClose(gpu.u, cpu.u, { rtol: 0, atol: 2 ** -23 });
  });
});
