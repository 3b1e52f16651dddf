// Losses (meanSquaredError, binaryCrossentropy on probabilities and on logits, softmaxCrossEntropy
// dense and sparse) on every backend against float64 code written here: values, stability for
// extreme inputs, gradients w.r.t. both arguments by central differences, and errors.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { BACKENDS, RTOL, useBackend } from './helpers/backends.js';
import { expectAllClose } from './helpers/close.js';
import { numericGradient, sizeOf } from './helpers/numeric.js';
import { integers, uniform } from './helpers/random.js';

const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

/** Keras clips to [ε, 1 − ε] with ε = 1e-7; as float32 holds those bounds. */
const LO = Math.fround(1e-7);
const HI = Math.fround(1 - 1e-7);

type PairRef = (z: ArrayLike<number>, p: ArrayLike<number>) => number;

const mseRef: PairRef = (z, p) => mean(Array.from(p, (v, i) => (v - z[i]) ** 2));
const bceRef: PairRef = (z, p) =>
  mean(
    Array.from(p, (v, i) => {
      const c = Math.min(Math.max(v, LO), HI);
      return -(z[i] * Math.log(c) + (1 - z[i]) * Math.log(1 - c));
    }),
  );
const bceLogitsRef: PairRef = (z, x) => mean(Array.from(x, (v, i) => Math.max(v, 0) - v * z[i] + Math.log1p(Math.exp(-Math.abs(v)))));

/** −Σ labels·logSoftmax(logits) per row, averaged over rows. */
function sceRef(x: ArrayLike<number>, labels: ArrayLike<number>, classes: number, sparse: boolean): number {
  const rows = x.length / classes;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const row = Array.from({ length: classes }, (_, j) => x[r * classes + j]);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    if (sparse) total += lse - row[labels[r]];
    else for (let j = 0; j < classes; j++) total += labels[r * classes + j] * (lse - row[j]);
  }
  return total / rows;
}

const f32 = (x: ArrayLike<number>): Float32Array => Float32Array.from(x);

describe.each(BACKENDS)('losses on %s', (backend) => {
  const rtol = RTOL[backend];
  beforeAll(() => useBackend(backend));

  const PAIRS: { name: string; f: (z: nt.Tensor, p: nt.Tensor) => nt.Tensor; ref: PairRef; p: (n: number) => Float64Array }[] = [
    { name: 'meanSquaredError', f: nt.meanSquaredError, ref: mseRef, p: (n) => uniform(n, -2, 2) },
    { name: 'binaryCrossentropy', f: (z, p) => nt.binaryCrossentropy(z, p), ref: bceRef, p: (n) => uniform(n, 0.02, 0.98) },
    {
      name: 'binaryCrossentropy fromLogits',
      f: (z, p) => nt.binaryCrossentropy(z, p, { fromLogits: true }),
      ref: bceLogitsRef,
      // Exact zeros included: there σ(0) − z is the gradient, which relu/abs composites get wrong.
      p: (n) => uniform(n, -4, 4).map((v, i) => (i % 5 === 0 ? 0 : v)),
    },
  ];

  describe.each(PAIRS)('$name', ({ f, ref, p }) => {
    it.each([[1], [7], [13, 3], [2, 3, 5]].map((shape) => ({ shape })))('value and gradients over $shape', async ({ shape }) => {
      const n = sizeOf(shape);
      const z = uniform(n, 0, 1);
      const x = p(n);
      const loss = nt.tidy(() => f(nt.tensor(f32(z), shape), nt.tensor(f32(x), shape)));
      expect(loss.shape).toEqual([]);
      expectAllClose(await loss.data(), [ref(z, x)], { rtol, atol: 1e-6 });
      loss.dispose();
      const [gz, gx] = nt.grads(f)([nt.tensor(f32(z), shape), nt.tensor(f32(x), shape)]);
      expectAllClose(await gz.data(), numericGradient((v) => ref(v, x), z), { rtol: 10 * rtol, atol: 1e-5 }, 'd/dlabels');
      expectAllClose(await gx.data(), numericGradient((v) => ref(z, v), x), { rtol: 10 * rtol, atol: 1e-5 }, 'd/dpredictions');
      nt.dispose([gz, gx]);
    });
  });

  it('binaryCrossentropy clips predictions of exactly 0 and 1 (finite loss, no gradient outside the clip)', async () => {
    const z = [0, 1, 1, 0, 0.3];
    const x = [0, 0, 1, 1, 0.5];
    const loss = nt.tidy(() => nt.binaryCrossentropy(nt.tensor(z), nt.tensor(x)));
    expectAllClose(await loss.data(), [bceRef(z, x)], { rtol, atol: 1e-6 });
    const g = nt.grads((a, b) => nt.binaryCrossentropy(a, b))([nt.tensor(z), nt.tensor(x)])[1];
    expectAllClose(await g.data(), numericGradient((v) => bceRef(z, v), x), { rtol, atol: 1e-6 });
    nt.dispose([loss, g]);
  });

  it('binaryCrossentropy fromLogits is stable for logits of ±100', async () => {
    const z = [0, 1, 0, 1, 0.5];
    const x = [100, 100, -100, -100, 100];
    const loss = nt.tidy(() => nt.binaryCrossentropy(nt.tensor(z), nt.tensor(x), { fromLogits: true }));
    expectAllClose(await loss.data(), [bceLogitsRef(z, x)], { rtol, atol: 1e-5 });
    loss.dispose();
  });

  describe.each([false, true])('softmaxCrossEntropy (sparse: %s)', (sparse) => {
    const shapes = [[1, 1], [7, 3], [13, 10], [3, 4, 5], [5]].map((shape) => ({ shape }));
    it.each(shapes)('value and gradients over logits $shape', async ({ shape }) => {
      const classes = shape[shape.length - 1];
      const rowShape = shape.slice(0, -1);
      const x = uniform(sizeOf(shape), -4, 4);
      // Dense labels need not sum to one: the loss is −Σ labels·logSoftmax either way.
      const labels = sparse ? integers(sizeOf(rowShape), classes) : uniform(sizeOf(shape), 0, 1);
      const makeLabels = () => (sparse ? nt.tensor(labels as Int32Array, rowShape) : nt.tensor(f32(labels), shape));
      const loss = nt.tidy(() => nt.softmaxCrossEntropy(nt.tensor(f32(x), shape), makeLabels(), { sparse }));
      expect(loss.shape).toEqual([]);
      expectAllClose(await loss.data(), [sceRef(x, labels, classes, sparse)], { rtol, atol: 1e-6 });
      loss.dispose();

      const lt = makeLabels();
      const xt = nt.tensor(f32(x), shape);
      // int32 sparse labels cannot be differentiated: take the gradient w.r.t. the logits only.
      const [gx, gl] = sparse
        ? [nt.grad((a) => nt.softmaxCrossEntropy(a, lt, { sparse }))(xt), null]
        : nt.grads((a, b) => nt.softmaxCrossEntropy(a, b))([xt, lt]);
      expectAllClose(await gx.data(), numericGradient((v) => sceRef(v, labels, classes, sparse), x), { rtol: 10 * rtol, atol: 1e-5 }, 'd/dlogits');
      if (gl) {
        expectAllClose(await gl.data(), numericGradient((v) => sceRef(x, v, classes, false), labels), { rtol: 10 * rtol, atol: 1e-5 }, 'd/dlabels');
        gl.dispose();
      }
      nt.dispose([gx, lt, xt]);
    });

    it('is exact for logits like 1e4 (no overflow, no cancellation)', async () => {
      const shape = [6, 11];
      const x = uniform(66, -5, 5).map((v, i) => Math.fround(v + (i % 3 ? 1e4 : -1e4)));
      const labels = sparse ? integers(6, 11) : uniform(66, 0, 1);
      const loss = nt.tidy(() =>
        nt.softmaxCrossEntropy(nt.tensor(f32(x), shape), sparse ? nt.tensor(labels as Int32Array, [6]) : nt.tensor(f32(labels), shape), { sparse }),
      );
      const value = (await loss.data())[0];
      expect(Number.isFinite(value)).toBe(true);
      expectAllClose([value], [sceRef(x, labels, 11, sparse)], { rtol, atol: 1e-5 });
      loss.dispose();
    });
  });

  it('softmaxCrossEntropy: a sparse label out of range makes the loss NaN and only its row of the gradient NaN (documented)', async () => {
    const x = uniform(9, -2, 2);
    const labels = Int32Array.from([0, 3, 2]);
    const loss = nt.tidy(() => nt.softmaxCrossEntropy(nt.tensor(f32(x), [3, 3]), nt.tensor(labels), { sparse: true }));
    expect(Number.isNaN((await loss.data())[0])).toBe(true);
    const g = await nt.grad((t) => nt.softmaxCrossEntropy(t, nt.tensor(labels), { sparse: true }))(nt.tensor(f32(x), [3, 3])).data();
    expect(Array.from(g.slice(3, 6)).every(Number.isNaN)).toBe(true);
    // The valid rows: (softmax − onehot)/rows, with rows counting the bad one.
    const valid = [0, 2];
    for (const r of valid) {
      const row = Array.from(x.slice(r * 3, r * 3 + 3));
      const expected = numericGradient((v) => sceRef(v, [labels[r]], 3, true) / 3, row);
      expectAllClose(g.slice(r * 3, r * 3 + 3), expected, { rtol: 10 * rtol, atol: 1e-5 }, `row ${r}`);
    }
    loss.dispose();
  });

  it('rejects mismatched shapes and wrong dtypes, naming the loss and the shapes', () => {
    nt.tidy(() => {
      const z = nt.zeros([4]);
      expect(() => nt.meanSquaredError(z, nt.zeros([4, 1]))).toThrow(/meanSquaredError: labels have shape \[4\] but predictions \[4,1\]/);
      expect(() => nt.binaryCrossentropy(z, nt.zeros([3]))).toThrow(/binaryCrossentropy: labels have shape \[4\] but predictions \[3\]/);
      expect(() => nt.binaryCrossentropy(nt.zeros([4], 'int32'), z, { fromLogits: true })).toThrow(nt.DTypeError);
      const logits = nt.zeros([2, 3]);
      expect(() => nt.softmaxCrossEntropy(logits, nt.zeros([2, 4]))).toThrow(/softmaxCrossEntropy: labels have shape \[2,4\] but logits \[2,3\]/);
      expect(() => nt.softmaxCrossEntropy(logits, nt.zeros([2, 3], 'int32'))).toThrow(/dense labels must be float32/);
      expect(() => nt.softmaxCrossEntropy(logits, nt.zeros([2]), { sparse: true })).toThrow(/sparse labels must be int32 class indices, got float32 \[2\]/);
      expect(() => nt.softmaxCrossEntropy(logits, nt.zeros([3], 'int32'), { sparse: true })).toThrow(
        /sparse labels have shape \[3\] but logits \[2,3\] \(expected \[2\]/,
      );
      expect(() => nt.softmaxCrossEntropy(nt.zeros([2, 3], 'int32'), logits)).toThrow(/logits must be float32/);
      expect(() => nt.softmaxCrossEntropy(nt.zeros([2, 0]), nt.zeros([2, 0]))).toThrow(/have no class dim/);
    });
  });
});
