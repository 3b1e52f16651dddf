// The layers that move values (reshape, permute, repeatVector, zeroPadding2d), global pooling,
// embedding and the normalisations over any axis: forward against float64 references written
// here, gradients through checkGradients, configs rebuilt from their Keras JSON; every backend.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { ConfigReader } from '../src/nn/layers/config.js';
import { layerFactory } from '../src/nn/layers/layer.js';
import { BACKENDS, useBackend } from './helpers/backends.js';
import { expectAllClose } from './helpers/close.js';
import { GRAD_TOL, gradientError, output, randomizeWeights, t } from './helpers/layers.js';
import { coordsOf, indexOf, sizeOf } from './helpers/numeric.js';
import { integers, uniform } from './helpers/random.js';

/** Values of x [shape] rearranged so that out[c] = x[source(c)] over an output of `outShape`. */
function rearranged(x: Float64Array, shape: number[], outShape: number[], source: (c: number[]) => number[] | null): Float64Array {
  return Float64Array.from({ length: sizeOf(outShape) }, (_, i) => {
    const c = source(coordsOf(i, outShape));
    return c === null ? 0 : x[indexOf(c, shape)];
  });
}

/** Per-feature mean and biased variance of x over every axis except those in `kept`. */
function moments(x: Float64Array, shape: number[], kept: number[]) {
  const key = (c: number[]) => kept.map((a) => c[a]).join(',');
  const sums = new Map<string, { s: number; q: number; n: number }>();
  x.forEach((v, i) => {
    const k = key(coordsOf(i, shape));
    const e = sums.get(k) ?? { s: 0, q: 0, n: 0 };
    e.s += v;
    e.n += 1;
    sums.set(k, e);
  });
  x.forEach((v, i) => {
    const e = sums.get(key(coordsOf(i, shape)))!;
    e.q += (v - e.s / e.n) ** 2;
  });
  return (i: number) => {
    const e = sums.get(key(coordsOf(i, shape)))!;
    return { mean: e.s / e.n, variance: e.q / e.n };
  };
}

/** The layer rebuilt from its own Keras JSON, as loadModel does. */
function rebuilt(layer: nt.Layer): nt.Layer {
  const { class_name, config } = layer.getConfig();
  const factory = layerFactory(class_name);
  expect(factory, `${class_name} is registered`).toBeDefined();
  return factory!(new ConfigReader(JSON.parse(JSON.stringify(config)), 'test'));
}

/** checkGradients of Σ R·layer(x) w.r.t. x, for weightless layers. */
async function inputGradientError(layer: nt.Layer, x: nt.Tensor): Promise<number> {
  const outShape = nt.tidy(() => [...layer.apply(x).shape]);
  const r = t(uniform(sizeOf(outShape)), outShape);
  const result = await nt.checkGradients((xi) => nt.sum(nt.mul(layer.apply(xi), r)), [x], { maxChecksPerInput: 12 });
  r.dispose();
  expect(Number.isNaN(result.maxRelativeError)).toBe(false);
  return result.maxRelativeError;
}

describe.each(BACKENDS)('reshaping, pooling, embedding and normalisation layers on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('reshape: values in row-major order, -1 inferred, gradient, config', async () => {
    const xv = uniform(3 * 4 * 5);
    const x = t(xv, [3, 4, 5]);
    const layer = nt.layers.reshape({ targetShape: [2, -1, 5] });
    const { values, shape } = await output(layer, x);
    expect(shape).toEqual([3, 2, 2, 5]);
    expect(layer.computeOutputShape([null, 4, 5])).toEqual([null, 2, 2, 5]);
    expectAllClose(values, xv, { rtol: 0, atol: 0 });
    expect(await inputGradientError(layer, x)).toBeLessThan(GRAD_TOL);
    expect(rebuilt(layer).getConfig().config).toMatchObject({ target_shape: [2, null, 5] });
    expect(() => nt.tidy(() => nt.layers.reshape({ targetShape: [7] }).apply(x))).toThrow(/Reshape '.*': an example of shape \[4,5\] \(20 values\) cannot be reshaped to \[7\]/);
    expect(() => nt.layers.reshape({ targetShape: [-1, -1] })).toThrow(/at most one -1/);
    x.dispose();
  });

  it('permute: matches the float64 transpose, gradient, config', async () => {
    const xs = [2, 3, 4, 5];
    const xv = uniform(sizeOf(xs));
    const x = t(xv, xs);
    const layer = nt.layers.permute({ dims: [3, 1, 2] });
    const { values, shape } = await output(layer, x);
    expect(shape).toEqual([2, 5, 3, 4]);
    expect(layer.computeOutputShape([null, 3, 4, 5])).toEqual([null, 5, 3, 4]);
    expectAllClose(values, rearranged(xv, xs, shape, ([b, i, j, k]) => [b, j, k, i]), { rtol: 0, atol: 0 });
    expect(await inputGradientError(layer, x)).toBeLessThan(GRAD_TOL);
    expect(rebuilt(layer).getConfig().config).toMatchObject({ dims: [3, 1, 2] });
    expect(() => nt.layers.permute({ dims: [1, 3] })).toThrow(/Permute '.*': dims should be a permutation of 1…2/);
    expect(() => nt.tidy(() => nt.layers.permute({ dims: [3, 1, 2] }).apply(nt.zeros([2, 3])))).toThrow(/Permute '.*': expected input of rank 4/);
    x.dispose();
  });

  it('repeatVector: n copies of each row, gradient sums them, config', async () => {
    const xv = uniform(3 * 7);
    const x = t(xv, [3, 7]);
    const layer = nt.layers.repeatVector({ n: 4 });
    const { values, shape } = await output(layer, x);
    expect(shape).toEqual([3, 4, 7]);
    expectAllClose(values, rearranged(xv, [3, 7], shape, ([b, , f]) => [b, f]), { rtol: 0, atol: 0 });
    expect(await inputGradientError(layer, x)).toBeLessThan(GRAD_TOL);
    expect(rebuilt(layer).getConfig().config).toMatchObject({ n: 4 });
    expect(() => nt.layers.repeatVector({ n: 0 })).toThrow(/RepeatVector '.*': n should be a positive integer/);
    x.dispose();
  });

  it.each([
    { padding: 1, pairs: [[1, 1], [1, 1]] },
    { padding: [2, 0], pairs: [[2, 2], [0, 0]] },
    { padding: [[0, 2], [3, 1]], pairs: [[0, 2], [3, 1]] },
  ])('zeroPadding2d $padding: zeros around the image, gradient, config', async ({ padding, pairs }) => {
    const xs = [2, 3, 5, 2];
    const xv = uniform(sizeOf(xs));
    const x = t(xv, xs);
    const layer = nt.layers.zeroPadding2d({ padding: padding as nt.layers.ZeroPadding2DArgs['padding'] });
    const { values, shape } = await output(layer, x);
    const [[top, bottom], [left, right]] = pairs;
    expect(shape).toEqual([2, 3 + top + bottom, 5 + left + right, 2]);
    expect(layer.computeOutputShape([null, 3, 5, 2])).toEqual([null, ...shape.slice(1)]);
    const ref = rearranged(xv, xs, shape, ([b, i, j, c]) => (i < top || i >= top + 3 || j < left || j >= left + 5 ? null : [b, i - top, j - left, c]));
    expectAllClose(values, ref, { rtol: 0, atol: 0 });
    expect(await inputGradientError(layer, x)).toBeLessThan(GRAD_TOL);
    expect(rebuilt(layer).getConfig().config).toMatchObject({ padding: pairs, data_format: 'channels_last' });
    x.dispose();
  });

  it.each(['avg', 'max'] as const)('global %s pooling: per-channel reduction over height and width, gradient, config', async (kind) => {
    const [n, h, w, c] = [3, 5, 4, 6];
    // Distinct values spaced wider than the difference step, so no max changes hands.
    const xv = Float64Array.from(uniform(n * h * w * c).map((v, i) => v + 0.01 * ((i * 7919) % 97)));
    const x = t(xv, [n, h, w, c]);
    const layer = kind === 'avg' ? nt.layers.globalAveragePooling2d() : nt.layers.globalMaxPooling2d();
    const { values, shape } = await output(layer, x);
    expect(shape).toEqual([n, c]);
    expect(layer.computeOutputShape([null, h, w, c])).toEqual([null, c]);
    const ref = Float64Array.from({ length: n * c }, (_, i) => {
      const [b, ch] = [Math.floor(i / c), i % c];
      let acc = kind === 'avg' ? 0 : -Infinity;
      for (let p = 0; p < h * w; p++) {
        const v = xv[(b * h * w + p) * c + ch];
        acc = kind === 'avg' ? acc + v / (h * w) : Math.max(acc, v);
      }
      return acc;
    });
    expectAllClose(values, ref, { rtol: 1e-5, atol: 1e-6 });
    expect(await inputGradientError(layer, x)).toBeLessThan(GRAD_TOL);
    expect(rebuilt(layer).getConfig()).toMatchObject({ class_name: layer.className, config: { data_format: 'channels_last' } });
    x.dispose();
  });

  it.each(['int32', 'float32'] as const)('embedding with %s tokens: the rows of the table, gradient w.r.t. the table, config', async (dtype) => {
    const [n, len, vocab, dim] = [3, 5, 7, 4];
    const tokens = integers(n * len, vocab);
    const x = nt.tensor(dtype === 'int32' ? tokens : Float32Array.from(tokens), [n, len], dtype);
    const layer = nt.layers.embedding({ inputDim: vocab, outputDim: dim, inputLength: len, seed: 1 });
    layer.apply(x).dispose();
    const [table] = randomizeWeights(layer);
    const { values, shape } = await output(layer, x);
    expect(shape).toEqual([n, len, dim]);
    expect(layer.computeOutputShape([null, len])).toEqual([null, len, dim]);
    expectAllClose(values, rearranged(table, [vocab, dim], shape, ([b, p, d]) => [tokens[b * len + p], d]), { rtol: 0, atol: 0 });
    const r = t(uniform(n * len * dim), [n, len, dim]);
    const result = await nt.checkGradients((w) => {
      layer.setWeights([w]);
      return nt.sum(nt.mul(layer.apply(x), r));
    }, [layer.weights[0]]);
    expect(result.maxRelativeError).toBeLessThan(GRAD_TOL);
    expect(rebuilt(layer).getConfig().config).toMatchObject({ input_dim: vocab, output_dim: dim, input_length: len, batch_input_shape: [null, len] });
    nt.dispose([x, r]);
    layer.dispose();
  });

  it.each([
    { axis: -1, shape: [4, 3, 7] },
    { axis: [1, 2], shape: [3, 4, 5] },
    { axis: 1, shape: [3, 6, 2, 3] },
  ])('layerNormalization over $axis of $shape matches float64, gradients, config', async ({ axis, shape }) => {
    const xv = uniform(sizeOf(shape), -2, 3);
    const x = t(xv, shape);
    const layer = nt.layers.layerNormalization({ axis, epsilon: 1e-3 });
    layer.apply(x).dispose();
    const axes = (typeof axis === 'number' ? [axis] : axis).map((a) => (a < 0 ? shape.length + a : a));
    const [gamma, beta] = randomizeWeights(layer, 0.5, 1.5);
    expect(layer.weights[0].shape).toEqual(axes.map((a) => shape[a]));
    const { values } = await output(layer, x);
    const perExample = moments(xv, shape, [0, ...shape.keys()].filter((a, i, all) => all.indexOf(a) === i && !axes.includes(a)));
    const param = (i: number) => indexOf(axes.map((a) => coordsOf(i, shape)[a]), axes.map((a) => shape[a]));
    const ref = Float64Array.from(xv, (v, i) => {
      const { mean, variance } = perExample(i);
      return ((v - mean) / Math.sqrt(variance + 1e-3)) * gamma[param(i)] + beta[param(i)];
    });
    expectAllClose(values, ref, { rtol: 1e-4, atol: 1e-5 });
    expect(await gradientError(layer, x)).toBeLessThan(GRAD_TOL);
    expect(rebuilt(layer).getConfig().config).toMatchObject({ axis, epsilon: 1e-3, center: true, scale: true });
    expect(() => nt.tidy(() => nt.layers.layerNormalization({ axis: 3 }).apply(nt.zeros([2, 3])))).toThrow(/LayerNormalization '.*': axis 3 does not fit input \[null,3\]/);
    x.dispose();
    layer.dispose();
  });

  describe.each([
    { axis: 1, shape: [4, 3, 2, 5] },
    { axis: -2, shape: [5, 3, 4] },
  ])('batchNormalization over axis $axis of $shape', ({ axis, shape }) => {
    const a = axis < 0 ? shape.length + axis : axis;
    const c = shape[a];
    const feature = (i: number) => coordsOf(i, shape)[a];

    it('training normalises with batch statistics and moves the moving averages', async () => {
      const xv = uniform(sizeOf(shape), -2, 3);
      const x = t(xv, shape);
      const layer = nt.layers.batchNormalization({ axis, momentum: 0.9 });
      layer.apply(x).dispose();
      const [gamma, beta] = randomizeWeights(layer, 0.5, 1.5);
      const init = [t(gamma, [c]), t(beta, [c]), nt.zeros([c]), nt.ones([c])];
      layer.setWeights(init);
      const stats = moments(xv, shape, [a]);
      const { values } = await output(layer, x, true);
      const ref = Float64Array.from(xv, (v, i) => ((v - stats(i).mean) / Math.sqrt(stats(i).variance + 1e-3)) * gamma[feature(i)] + beta[feature(i)]);
      expectAllClose(values, ref, { rtol: 1e-4, atol: 1e-5 });
      const first = (f: number) => xv.findIndex((_, i) => feature(i) === f);
      const [mm, mv] = await Promise.all(layer.weights.slice(2).map((v) => v.data()));
      expectAllClose(mm, Array.from({ length: c }, (_, f) => 0.1 * stats(first(f)).mean), { rtol: 1e-4, atol: 1e-6 });
      expectAllClose(mv, Array.from({ length: c }, (_, f) => 0.9 + 0.1 * stats(first(f)).variance), { rtol: 1e-4, atol: 1e-6 });
      [x, ...init].forEach((v) => v.dispose());
      layer.dispose();
    });

    it('inference uses the moving averages; gradients pass in both modes; config keeps the axis', async () => {
      const xv = uniform(sizeOf(shape), -2, 3);
      const x = t(xv, shape);
      const layer = nt.layers.batchNormalization({ axis });
      layer.apply(x).dispose();
      const [gamma, beta, mm, mv] = randomizeWeights(layer, 0.2, 1.2);
      const { values } = await output(layer, x);
      const f = feature;
      const ref = Float64Array.from(xv, (v, i) => ((v - mm[f(i)]) / Math.sqrt(mv[f(i)] + 1e-3)) * gamma[f(i)] + beta[f(i)]);
      expectAllClose(values, ref, { rtol: 1e-4, atol: 1e-5 });
      expect(await gradientError(layer, x, false)).toBeLessThan(GRAD_TOL);
      expect(await gradientError(layer, x, true)).toBeLessThan(GRAD_TOL);
      expect(rebuilt(layer).getConfig().config).toMatchObject({ axis });
      x.dispose();
      layer.dispose();
    });
  });

  it('batchNormalization rejects the batch axis and axes outside the input', () => {
    expect(() => nt.layers.batchNormalization({ axis: 0 })).toThrow(/BatchNormalization '.*': axis should be a non-batch axis/);
    expect(() => nt.tidy(() => nt.layers.batchNormalization({ axis: 3 }).apply(nt.zeros([2, 3, 4])))).toThrow(
      /BatchNormalization '.*': axis 3 is outside input \[null,3,4\] or is its batch axis \(expected -2…-1 or 1…2\)/,
    );
    expect(() => nt.tidy(() => nt.layers.batchNormalization({ axis: -3 }).apply(nt.zeros([2, 3, 4])))).toThrow(nt.ShapeError);
  });
});
