// Numerics at the edges, the same on every backend: NaN and ±Infinity in inputs propagate as
// IEEE arithmetic has it; huge and tiny logits in softmax and sigmoid cross-entropy give finite
// losses and gradients where the mathematics does; and max pooling over tied windows sends each
// window's gradient to its first maximum in window order (row-major), on both backends.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { BACKENDS, useBackend } from './helpers/backends.js';
import { freshRng, integers, uniform } from './helpers/random.js';

const f32 = Math.fround;
/** The smallest normal float32: GPUs may flush smaller (subnormal) results to zero. */
const MIN_NORMAL = 2 ** -126;

/**
 * Compares with a float64 reference under IEEE rules: NaN only where the reference is NaN,
 * infinities exactly, subnormal references as themselves or 0, others within rtol.
 */
function expectIeee(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = 1e-5): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const ok = Number.isNaN(e)
      ? Number.isNaN(a)
      : !Number.isFinite(e)
        ? a === e
        : Math.abs(e) < MIN_NORMAL
          ? Math.abs(a) < MIN_NORMAL && (a === 0 || Math.abs(a - e) <= MIN_NORMAL * 1e-6 + rtol * Math.abs(e) || a === f32(e))
          : Math.abs(a - e) <= rtol * Math.abs(e) + 1e-30;
    if (!ok) bad.push(`[${i}] got ${a}, expected ${e}`);
  }
  expect(bad, what).toEqual([]);
}

/**
 * Inputs where IEEE rules matter: NaN, infinities, signed zeros, huge and tiny values. Not
 * subnormals: GPUs may read them as 0 (README), so sign(1e-40) may be 0 there.
 */
const SPECIAL = [Number.NaN, Infinity, -Infinity, 0, -0, 1e30, -1e30, 1e-30, -1e-30, 100, -100, 88, -88, 20, -20, 2.5, -0.75];

const sigmoid64 = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const relu64 = (x: number): number => (Number.isNaN(x) ? x : x > 0 ? x : 0);
const max64 = (a: number, b: number): number => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b));
const min64 = (a: number, b: number): number => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.min(a, b));

/** Each unary op with its float64 reference (on the float32-rounded input). */
const UNARY: [string, (x: nt.Tensor) => nt.Tensor, (x: number) => number][] = [
  ['relu', nt.relu, relu64],
  ['leakyRelu', (x) => nt.leakyRelu(x, { alpha: 0.25 }), (x) => (x > 0 ? x : Number.isNaN(x) ? x : 0.25 * x)],
  ['elu', nt.elu, (x) => (x > 0 ? x : Number.isNaN(x) ? x : Math.expm1(x))],
  ['sigmoid', nt.sigmoid, sigmoid64],
  ['tanh', nt.tanh, Math.tanh],
  ['abs', nt.abs, Math.abs],
  ['sign', nt.sign, Math.sign],
  ['floor', nt.floor, Math.floor],
  ['exp', nt.exp, Math.exp],
  ['log', nt.log, Math.log],
  ['sqrt', nt.sqrt, Math.sqrt],
  ['square', nt.square, (x) => x * x],
  ['neg', nt.neg, (x) => -x],
  ['clipByValue [-1, 1]', (x) => nt.clipByValue(x, -1, 1), (x) => min64(max64(x, -1), 1)],
  ['maximum(x, 0)', (x) => nt.maximum(x, 0), (x) => max64(x, 0)],
  ['maximum(0, x)', (x) => nt.maximum(nt.scalar(0), x), (x) => max64(0, x)],
  ['minimum(x, 0)', (x) => nt.minimum(x, 0), (x) => min64(x, 0)],
];

describe.each(BACKENDS)('numerics on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  /** Runs `f` on a fresh tensor of `values` (shape `shape`) and reads the result. */
  async function apply(values: number[], shape: number[], f: (x: nt.Tensor) => nt.Tensor): Promise<Float32Array> {
    const x = nt.tensor(Float32Array.from(values), shape);
    const y = nt.tidy(() => f(x));
    try {
      return (await y.data()) as Float32Array;
    } finally {
      nt.dispose([x, y]);
    }
  }

  it.each(UNARY)('%s: NaN and ±Infinity propagate as IEEE says, huge and tiny values stay exact', async (name, op, reference) => {
    const out = await apply(SPECIAL, [SPECIAL.length], op);
    // exp and its kin may differ by an ulp or two between the CPU's libm and a GPU's.
    expectIeee(out, SPECIAL.map((x) => f32(reference(f32(x)))), name, 4e-6);
  });

  it('reductions: a NaN anywhere gives NaN; infinities win max/min and make sums infinite', async () => {
    const withNaN = [1, Number.NaN, -2];
    const withInf = [1, Infinity, -2, -Infinity];
    for (const [name, op] of [['max', nt.max], ['min', nt.min], ['sum', nt.sum], ['mean', nt.mean], ['logSumExp', nt.logSumExp]] as const) {
      expect(Number.isNaN((await apply(withNaN, [3], (x) => op(x)))[0]), `${name} over a NaN`).toBe(true);
    }
    expect(Array.from(await apply(withInf, [4], (x) => nt.max(x)))).toEqual([Infinity]);
    expect(Array.from(await apply(withInf, [4], (x) => nt.min(x)))).toEqual([-Infinity]);
    expect(Number.isNaN((await apply(withInf, [4], (x) => nt.sum(x)))[0]), 'Inf + −Inf').toBe(true);
    expect(Array.from(await apply([1, Infinity, 2], [3], (x) => nt.sum(x)))).toEqual([Infinity]);
  });

  it('softmax and logSoftmax: a row holding NaN or +Infinity is NaN throughout; −Infinity gets probability 0; huge and tiny logits stay finite', async () => {
    const rows = [
      [1, Number.NaN, 2, 0],
      [1, Infinity, 2, 0],
      [-Infinity, 0, Math.log(3), -Infinity],
      [1e30, -1e30, 0, 3],
      [1e-30, -1e-30, 0, 1e-40],
      [-1e30, -1e30, -1e30, -1e30],
    ];
    const softmax64 = (row: number[]): number[] => {
      if (row.some(Number.isNaN) || row.includes(Infinity)) return row.map(() => Number.NaN);
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    };
    const logSoftmax64 = (row: number[]): number[] => {
      if (row.some(Number.isNaN) || row.includes(Infinity)) return row.map(() => Number.NaN);
      const m = Math.max(...row);
      const logSum = Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
      return row.map((v) => v - m - logSum);
    };
    const values = rows.flat();
    expectIeee(await apply(values, [rows.length, 4], (x) => nt.softmax(x)), rows.flatMap((r) => softmax64(r.map(f32))).map(f32), 'softmax');
    expectIeee(await apply(values, [rows.length, 4], (x) => nt.logSoftmax(x)), rows.flatMap((r) => logSoftmax64(r.map(f32))).map(f32), 'logSoftmax');
  });

  it('softmaxCrossEntropy with huge and tiny logits: finite loss and gradient, equal to the float64 values', async () => {
    const rows = [
      [1e30, -1e30, 0, 3],
      [3e4, -3e4, 1e4, 0],
      [1e-30, -1e-30, 0, 1e-40],
      [-1e30, 1e30, 1e30, -5],
      [88, -88, 89, 0],
    ];
    const labels = integers(rows.length, 4);
    labels[0] = 1; // the −1e30 logit: loss 2e30, large but finite in float32
    const logits = rows.flat().map(f32);
    const n = rows.length;
    const loss64 =
      rows.reduce((total, raw, i) => {
        const row = raw.map(f32);
        const m = Math.max(...row);
        return total + m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) - row[labels[i]];
      }, 0) / n;
    const grad64 = rows.flatMap((raw, i) => {
      const row = raw.map(f32);
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v, j) => (v / s - (j === labels[i] ? 1 : 0)) / n);
    });
    const x = nt.tensor(Float32Array.from(logits), [n, 4]);
    const y = nt.tensor(labels, [n], 'int32');
    const { value, grads } = nt.valueAndGrads((l: nt.Tensor) => nt.softmaxCrossEntropy(l, y, { sparse: true }))([x]);
    const loss = (await value.data())[0];
    const grad = await grads[0].data();
    expect(Number.isFinite(loss), `loss ${loss}`).toBe(true);
    expect(Math.abs(loss - loss64) / loss64, `loss ${loss} vs ${loss64}`).toBeLessThan(1e-5);
    expectIeee(grad, grad64, 'gradient (softmax − one-hot)/n', 1e-5);
    expect(Array.from(grad).every(Number.isFinite)).toBe(true);
    nt.dispose([x, y, value, ...grads]);
  });

  it('sigmoid cross-entropy (binaryCrossentropy fromLogits) with huge and tiny logits: finite loss and gradient', async () => {
    const xs = [1e30, -1e30, 1e4, -1e4, 100, -100, 20, -20, 0, 1e-30, -1e-30, 3];
    const random = freshRng();
    const zs = xs.map((_, i) => (i % 3 === 2 ? f32(random()) : i % 2));
    const n = xs.length;
    const x = nt.tensor(Float32Array.from(xs), [n]);
    const z = nt.tensor(Float32Array.from(zs), [n]);
    const { value, grads } = nt.valueAndGrads((l: nt.Tensor) => nt.binaryCrossentropy(z, l, { fromLogits: true }))([x]);
    const perElement = xs.map(f32).map((v, i) => Math.max(v, 0) - v * zs[i] + Math.log1p(Math.exp(-Math.abs(v))));
    const loss64 = perElement.reduce((a, b) => a + b, 0) / n;
    const loss = (await value.data())[0];
    expect(Number.isFinite(loss), `loss ${loss}`).toBe(true);
    expect(Math.abs(loss - loss64) / loss64).toBeLessThan(1e-5);
    const grad = await grads[0].data();
    expectIeee(grad, xs.map(f32).map((v, i) => (sigmoid64(v) - zs[i]) / n), 'gradient σ(x) − z', 1e-5);
    nt.dispose([x, z, value, ...grads]);
  });

  it('binaryCrossentropy on probabilities of exactly 0 and 1 stays finite (clipped to [1e-7, 1 − 1e-7])', async () => {
    const p = nt.tensor([0, 1, 1e-30, 1, 0.5], [5]);
    const z = nt.tensor([1, 0, 1, 1, 1], [5]);
    const { value, grads } = nt.valueAndGrads((q: nt.Tensor) => nt.binaryCrossentropy(z, q))([p]);
    const loss = (await value.data())[0];
    expect(Number.isFinite(loss) && loss > 0).toBe(true);
    expect(Array.from(await grads[0].data()).every(Number.isFinite)).toBe(true);
    nt.dispose([p, z, value, ...grads]);
  });

  it('matMul: a NaN in A makes its row of the product NaN and nothing else', async () => {
    const [m, k, n] = [5, 7, 3];
    const a = Array.from(uniform(m * k));
    a[2 * k + 3] = Number.NaN;
    const b = nt.tensor(Float32Array.from(uniform(k * n, 0.5, 1)), [k, n]);
    const out = await apply(a, [m, k], (x) => nt.matMul(x, b));
    b.dispose();
    expect(Array.from(out, (v, i) => Number.isNaN(v) === (Math.floor(i / n) === 2)).every(Boolean), `NaN mask of ${Array.from(out)}`).toBe(true);
  });

  it.each([
    ['valid', 1],
    ['same', 1],
    ['same', 2],
  ] as const)("conv2d (%s, stride %d): a NaN pixel makes exactly the outputs whose window covers it NaN", async (padding, stride) => {
    const [h, w, c, kh] = [6, 7, 2, 3];
    const pixel = { r: 2, c: 4 };
    const x = Array.from(uniform(h * w * c));
    x[(pixel.r * w + pixel.c) * c + 1] = Number.NaN;
    const filter = nt.tensor(Float32Array.from(uniform(kh * kh * c * 2, 0.5, 1)), [kh, kh, c, 2]);
    const out = await apply(x, [1, h, w, c], (t) => nt.conv2d(t, filter, { padding, strides: stride }));
    filter.dispose();
    // TF's 'same': pad (kh − 1 − ((size − 1) % stride)) … total, the smaller half on top/left.
    const before = (size: number) => (padding === 'valid' ? 0 : Math.floor(Math.max(kh - (size % stride === 0 ? stride : size % stride), 0) / 2));
    const outH = padding === 'valid' ? Math.floor((h - kh) / stride) + 1 : Math.ceil(h / stride);
    const outW = padding === 'valid' ? Math.floor((w - kh) / stride) + 1 : Math.ceil(w / stride);
    expect(out.length).toBe(outH * outW * 2);
    const covers = (o: number, p: number, size: number) => o * stride - before(size) <= p && p < o * stride - before(size) + kh;
    const mask = Array.from(out, (_, i) => covers(Math.floor(i / 2 / outW), pixel.r, h) && covers(Math.floor(i / 2) % outW, pixel.c, w));
    expect(Array.from(out, (v) => Number.isNaN(v)), `NaN outputs of a ${outH}×${outW} map`).toEqual(mask);
  });

  describe('max pooling over ties', () => {
    /** maxPool2d's value and its gradient for dy = 1 everywhere, over x [1, h, w, 1]. */
    async function poolGrad(values: number[], h: number, w: number, options: nt.Pool2dOptions): Promise<{ y: number[]; dx: number[] }> {
      const x = nt.tensor(Float32Array.from(values), [1, h, w, 1]);
      const { value, grads } = nt.valueAndGrads((t: nt.Tensor) => nt.sum(nt.maxPool2d(t, options)))([x]);
      const y = nt.maxPool2d(x, options);
      const out = { y: Array.from(await y.data()), dx: Array.from(await grads[0].data()) };
      nt.dispose([x, y, value, ...grads]);
      return out;
    }

    it('an all-equal input sends each window\'s gradient to its first element (top-left)', async () => {
      // 5×5 of 0.5, 2×2 windows, stride 2 'valid': windows start at rows/cols 0 and 2.
      const { y, dx } = await poolGrad(Array(25).fill(0.5), 5, 5, { poolSize: 2, strides: 2, padding: 'valid' });
      expect(y).toEqual([0.5, 0.5, 0.5, 0.5]);
      const expected = Array(25).fill(0);
      for (const r of [0, 2]) for (const c of [0, 2]) expected[r * 5 + c] = 1;
      expect(dx).toEqual(expected);
    });

    it('overlapping all-equal windows (3×3, stride 1) each send theirs to their own first element', async () => {
      const { dx } = await poolGrad(Array(20).fill(-2), 4, 5, { poolSize: 3, strides: 1, padding: 'valid' });
      const expected = Array(20).fill(0);
      for (const r of [0, 1]) for (const c of [0, 1, 2]) expected[r * 5 + c] = 1;
      expect(dx).toEqual(expected);
    });

    it("with 'same' padding the padding never wins: edge windows send theirs to their first real element", async () => {
      // 3×3 of 0, pool 2 stride 2 'same': windows at rows/cols 0 and 2; the second are cut by the padding.
      const { y, dx } = await poolGrad(Array(9).fill(0), 3, 3, { poolSize: 2, strides: 2, padding: 'same' });
      expect(y).toEqual([0, 0, 0, 0]);
      expect(dx).toEqual([1, 0, 1, 0, 0, 0, 1, 0, 1]);
    });

    it('two equal maxima in a window: the first in row-major order gets the gradient', async () => {
      // One 2×2 window [[1, 3], [3, 2]]: the 3 at (0, 1) comes before the 3 at (1, 0).
      const { dx } = await poolGrad([1, 3, 3, 2], 2, 2, { poolSize: 2, strides: 2 });
      expect(dx).toEqual([0, 1, 0, 0]);
    });

    it('NaN in a window: the window is NaN and its gradient goes to the NaN; Infinity wins the others', async () => {
      const { y, dx } = await poolGrad([1, Number.NaN, 2, Infinity, 5, 5, -Infinity, 7], 2, 4, { poolSize: 2, strides: 2 });
      expect(Number.isNaN(y[0])).toBe(true);
      expect(y[1]).toBe(Infinity);
      expect(dx).toEqual([0, 1, 0, 1, 0, 0, 0, 0]);
    });
  });
});
