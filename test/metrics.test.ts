// Accuracy metrics on every backend against references written here: sparse int32 labels
// ([batch] and [batch,1]), one-hot and probability labels, binary predictions with a threshold,
// the shape-based choice `accuracy` makes, and Keras-name lookup.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { BACKENDS, useBackend } from './helpers/backends.js';
import { freshRng, uniform } from './helpers/random.js';

const { metrics } = nt;

/** Index of the largest of row `r` (first on ties, as argMax). */
function argMaxRow(v: ArrayLike<number>, r: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (v[r * classes + c] > v[r * classes + best]) best = c;
  return best;
}

/** Random predictions and labels that match the argMax about 60% of the time. */
function classification(batch: number, classes: number): { pred: Float64Array; labels: Int32Array } {
  const pred = uniform(batch * classes, 0, 1);
  const r = freshRng();
  const labels = Int32Array.from({ length: batch }, (_, b) => (r() < 0.6 ? argMaxRow(pred, b, classes) : Math.floor(r() * classes)));
  return { pred, labels };
}

const fractionTrue = (flags: boolean[]): number => flags.filter(Boolean).length / flags.length;

async function value(t: nt.Tensor): Promise<number> {
  expect(t.shape).toEqual([]);
  const [v] = await t.data();
  t.dispose();
  return v;
}

const BATCHES = [1, 7, 31, 257];

describe.each(BACKENDS)('metrics on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  describe.each(BATCHES)('batch %i', (batch) => {
    it.each([3, 10])('sparse labels, %i classes', async (classes) => {
      const { pred, labels } = classification(batch, classes);
      const expected = fractionTrue(Array.from(labels, (l, b) => l === argMaxRow(pred, b, classes)));
      const yPred = nt.tensor(Float32Array.from(pred), [batch, classes]);
      const flat = nt.tensor(labels, [batch]);
      const column = nt.tensor(labels, [batch, 1]);
      const asFloat = nt.tensor(Float32Array.from(labels), [batch]);
      for (const yTrue of [flat, column, asFloat]) {
        expect(await value(metrics.sparseCategoricalAccuracy(yTrue, yPred))).toBeCloseTo(expected, 6);
        expect(await value(metrics.accuracy(yTrue, yPred))).toBeCloseTo(expected, 6);
      }
      nt.dispose([yPred, flat, column, asFloat]);
    });

    it('one-hot and probability labels', async () => {
      const classes = 7;
      const { pred, labels } = classification(batch, classes);
      const oneHot = new Float32Array(batch * classes);
      labels.forEach((l, b) => (oneHot[b * classes + l] = 1));
      const probs = Float32Array.from(uniform(batch * classes, 0, 1));
      const expectedOneHot = fractionTrue(Array.from(labels, (l, b) => l === argMaxRow(pred, b, classes)));
      const expectedProbs = fractionTrue(Array.from(labels, (_, b) => argMaxRow(probs, b, classes) === argMaxRow(pred, b, classes)));
      const yPred = nt.tensor(Float32Array.from(pred), [batch, classes]);
      const [yOneHot, yProbs] = [nt.tensor(oneHot, [batch, classes]), nt.tensor(probs, [batch, classes])];
      expect(await value(metrics.categoricalAccuracy(yOneHot, yPred))).toBeCloseTo(expectedOneHot, 6);
      expect(await value(metrics.accuracy(yOneHot, yPred))).toBeCloseTo(expectedOneHot, 6);
      expect(await value(metrics.categoricalAccuracy(yProbs, yPred))).toBeCloseTo(expectedProbs, 6);
      nt.dispose([yPred, yOneHot, yProbs]);
    });

    it('binary predictions (one class) threshold at 0.5', async () => {
      const pred = uniform(batch, 0, 1);
      const r = freshRng();
      const labels = Array.from(pred, (p) => (r() < 0.7 ? +(p > 0.5) : +(r() < 0.5)));
      const expected = fractionTrue(labels.map((l, i) => l === +(pred[i] > 0.5)));
      const yPred = nt.tensor(Float32Array.from(pred), [batch, 1]);
      const yPredFlat = nt.tensor(Float32Array.from(pred), [batch]);
      const column = nt.tensor(Float32Array.from(labels), [batch, 1]);
      const ints = nt.tensor(Int32Array.from(labels), [batch]);
      for (const [yTrue, p] of [[column, yPred], [ints, yPred], [column, yPredFlat]] as const) {
        expect(await value(metrics.binaryAccuracy(yTrue, p))).toBeCloseTo(expected, 6);
        expect(await value(metrics.accuracy(yTrue, p))).toBeCloseTo(expected, 6);
      }
      const expected03 = fractionTrue(labels.map((l, i) => l === +(pred[i] > 0.3)));
      expect(await value(metrics.binaryAccuracy(column, yPred, { threshold: 0.3 }))).toBeCloseTo(expected03, 6);
      nt.dispose([yPred, yPredFlat, column, ints]);
    });
  });

  it('binary accuracy of several outputs per example is the mean over all of them', async () => {
    const [batch, outputs] = [13, 3];
    const pred = uniform(batch * outputs, 0, 1);
    const r = freshRng();
    const labels = Array.from(pred, () => +(r() < 0.5));
    const expected = fractionTrue(labels.map((l, i) => l === +(pred[i] > 0.5)));
    const [yTrue, yPred] = [nt.tensor(Float32Array.from(labels), [batch, outputs]), nt.tensor(Float32Array.from(pred), [batch, outputs])];
    expect(await value(metrics.binaryAccuracy(yTrue, yPred))).toBeCloseTo(expected, 6);
    nt.dispose([yTrue, yPred]);
  });

  it('leaves no tensors behind but its result', async () => {
    const yPred = nt.tensor(Float32Array.from(uniform(21, 0, 1)), [7, 3]);
    const yTrue = nt.tensor(Int32Array.from([0, 1, 2, 0, 1, 2, 0]), [7]);
    const before = nt.memory().numTensors;
    const acc = metrics.accuracy(yTrue, yPred);
    expect(nt.memory().numTensors).toBe(before + 1);
    nt.dispose([acc, yPred, yTrue]);
  });

  it('rejects shapes that do not fit, naming them', () => {
    const yPred = nt.zeros([4, 3]);
    expect(() => metrics.accuracy(nt.zeros([5], 'int32'), yPred)).toThrow(/accuracy: yTrue \[5\] and yPred \[4,3\]/);
    expect(() => metrics.categoricalAccuracy(nt.zeros([4, 2]), yPred)).toThrow(nt.ShapeError);
    expect(() => metrics.sparseCategoricalAccuracy(nt.zeros([4, 3]), yPred)).toThrow(nt.ShapeError);
    expect(() => metrics.binaryAccuracy(nt.zeros([4, 2]), yPred)).toThrow(nt.ShapeError);
    yPred.dispose();
  });
});

describe('getMetric', () => {
  it.each([
    ['accuracy', 'accuracy'],
    ['acc', 'accuracy'],
    ['Accuracy', 'accuracy'],
    ['sparse_categorical_accuracy', 'sparseCategoricalAccuracy'],
    ['sparseCategoricalAccuracy', 'sparseCategoricalAccuracy'],
    ['SparseCategoricalAccuracy', 'sparseCategoricalAccuracy'],
    ['categorical_accuracy', 'categoricalAccuracy'],
    ['categoricalAccuracy', 'categoricalAccuracy'],
    ['binary_accuracy', 'binaryAccuracy'],
    ['binaryAccuracy', 'binaryAccuracy'],
  ])('%s is %s', (name, fn) => {
    expect(metrics.getMetric(name)).toBe((metrics as unknown as Record<string, nt.Metric>)[fn]);
  });

  it('returns functions as they are and names the valid metrics otherwise', () => {
    const custom: nt.Metric = (yTrue) => nt.mean(yTrue);
    expect(metrics.getMetric(custom)).toBe(custom);
    expect(() => metrics.getMetric('precision')).toThrow(/unknown metric "precision".*sparseCategoricalAccuracy/);
  });
});
