// Every layer's forward pass against a float64 reference written here, and its gradients
// (w.r.t. the input and the weights) through the public checkGradients, on every backend.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { BACKENDS, RTOL, useBackend } from './helpers/backends.js';
import { expectAllClose, normRelativeError } from './helpers/close.js';
import { uniform } from './helpers/random.js';
import { GRAD_TOL, gradientError, output, randomizeWeights, t } from './helpers/layers.js';

type Act = (v: number) => number;
const ACTS: Record<string, Act> = {
  linear: (v) => v,
  relu: (v) => Math.max(v, 0),
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  tanh: Math.tanh,
  elu: (v) => (v > 0 ? v : Math.exp(v) - 1),
  leakyRelu: (v) => (v > 0 ? v : 0.2 * v),
};

/** Softmax over the last dim of a row-major [rows, n] array. */
function softmaxRows(y: Float64Array, n: number): Float64Array {
  const out = new Float64Array(y.length);
  for (let r = 0; r < y.length / n; r++) {
    let m = -Infinity;
    for (let j = 0; j < n; j++) m = Math.max(m, y[r * n + j]);
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.exp(y[r * n + j] - m);
    for (let j = 0; j < n; j++) out[r * n + j] = Math.exp(y[r * n + j] - m) / s;
  }
  return out;
}

/** x [rows, k] · w [k, n] + b [n] in float64. */
function denseRef(x: Float64Array, w: Float64Array, b: Float64Array, rows: number, k: number, n: number): Float64Array {
  const y = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < n; j++) {
      let s = b[j];
      for (let i = 0; i < k; i++) s += x[r * k + i] * w[i * n + j];
      y[r * n + j] = s;
    }
  return y;
}

/** TF's padding before the first element of one spatial dim. */
function padBefore(size: number, k: number, s: number, d: number, padding: string): { out: number; pad: number } {
  const eff = (k - 1) * d + 1;
  if (padding === 'valid') return { out: Math.floor((size - eff) / s) + 1, pad: 0 };
  const out = Math.ceil(size / s);
  return { out, pad: Math.floor(Math.max((out - 1) * s + eff - size, 0) / 2) };
}

/** NHWC convolution with a [kh, kw, c, f] filter, plus bias. */
function convRef(x: Float64Array, xs: number[], w: Float64Array, ws: number[], b: Float64Array, s: number[], padding: string) {
  const [n, h, wd, c] = xs;
  const [kh, kw, , f] = ws;
  const H = padBefore(h, kh, s[0], 1, padding);
  const W = padBefore(wd, kw, s[1], 1, padding);
  const y = new Float64Array(n * H.out * W.out * f);
  for (let bi = 0; bi < n; bi++)
    for (let oy = 0; oy < H.out; oy++)
      for (let ox = 0; ox < W.out; ox++)
        for (let fo = 0; fo < f; fo++) {
          let acc = b[fo];
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              const iy = oy * s[0] + ky - H.pad;
              const ix = ox * s[1] + kx - W.pad;
              if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
              for (let ci = 0; ci < c; ci++) acc += x[((bi * h + iy) * wd + ix) * c + ci] * w[((ky * kw + kx) * c + ci) * f + fo];
            }
          y[((bi * H.out + oy) * W.out + ox) * f + fo] = acc;
        }
  return { y, shape: [n, H.out, W.out, f] };
}

/** Max or average pooling; padded positions are not part of any window (TF). */
function poolRef(x: Float64Array, xs: number[], p: number[], s: number[], padding: string, kind: 'max' | 'avg') {
  const [n, h, w, c] = xs;
  const H = padBefore(h, p[0], s[0], 1, padding);
  const W = padBefore(w, p[1], s[1], 1, padding);
  const y = new Float64Array(n * H.out * W.out * c);
  for (let bi = 0; bi < n; bi++)
    for (let oy = 0; oy < H.out; oy++)
      for (let ox = 0; ox < W.out; ox++)
        for (let ci = 0; ci < c; ci++) {
          let acc = kind === 'max' ? -Infinity : 0;
          let count = 0;
          for (let ky = 0; ky < p[0]; ky++)
            for (let kx = 0; kx < p[1]; kx++) {
              const iy = oy * s[0] + ky - H.pad;
              const ix = ox * s[1] + kx - W.pad;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              const v = x[((bi * h + iy) * w + ix) * c + ci];
              acc = kind === 'max' ? Math.max(acc, v) : acc + v;
              count++;
            }
          y[((bi * H.out + oy) * W.out + ox) * c + ci] = kind === 'max' ? acc : acc / count;
        }
  return { y, shape: [n, H.out, W.out, c] };
}

/** h_t = tanh(x_t·W + h_{t−1}·U + b) over x [n, T, F]; every h_t, [n, T, units]. */
function rnnRef(x: Float64Array, n: number, T: number, F: number, W: Float64Array, U: Float64Array, b: Float64Array, units: number): Float64Array {
  const out = new Float64Array(n * T * units);
  for (let bi = 0; bi < n; bi++) {
    let h = new Float64Array(units);
    for (let t = 0; t < T; t++) {
      const next = new Float64Array(units);
      for (let u = 0; u < units; u++) {
        let s = b[u];
        for (let f = 0; f < F; f++) s += x[(bi * T + t) * F + f] * W[f * units + u];
        for (let k = 0; k < units; k++) s += h[k] * U[k * units + u];
        next[u] = Math.tanh(s);
      }
      h = next;
      out.set(h, (bi * T + t) * units);
    }
  }
  return out;
}


describe.each(BACKENDS)('layers on %s', (backend) => {
  const rtol = RTOL[backend];
  const sumTol = backend === 'cpu' ? 1e-5 : 1e-3;
  beforeAll(() => useBackend(backend));

  describe('dense', () => {
    it.each(Object.keys(ACTS))('forward with bias and %s matches float64', async (act) => {
      const [rows, k, n] = [7, 13, 5];
      const layer = nt.layers.dense({ units: n, activation: act as nt.layers.DenseArgs['activation'] });
      const xv = uniform(rows * k, -1, 1);
      const x = t(xv, [rows, k]);
      layer.apply(x).dispose();
      const [w, b] = randomizeWeights(layer);
      const { values, shape } = await output(layer, x);
      expect(shape).toEqual([rows, n]);
      expect(normRelativeError(values, Array.from(denseRef(xv, w, b, rows, k, n), ACTS[act]))).toBeLessThan(sumTol);
      x.dispose();
      layer.dispose();
    });

    it.each(['relu', 'sigmoid', 'tanh', 'linear'] as const)('forward with bias and %s is one kernel (fusedMatMul)', (activation) => {
      const layer = nt.layers.dense({ units: 5, activation });
      const x = t(uniform(7 * 13), [7, 13]);
      layer.apply(x).dispose();
      nt.resetStats();
      const y = layer.apply(x);
      expect(nt.stats().dispatches).toBe(1);
      nt.dispose([x, y]);
      layer.dispose();
    });

    it('applies softmax over the last axis and works on rank-3 inputs', async () => {
      const layer = nt.layers.dense({ units: 4, activation: 'softmax', useBias: false });
      const xv = uniform(2 * 3 * 6, -2, 2);
      const x = t(xv, [2, 3, 6]);
      layer.apply(x).dispose();
      const [w] = randomizeWeights(layer, -1, 1);
      const { values, shape } = await output(layer, x);
      expect(shape).toEqual([2, 3, 4]);
      expect(layer.weights.length).toBe(1);
      expectAllClose(values, softmaxRows(denseRef(xv, w, new Float64Array(4), 6, 6, 4), 4), { rtol: 1e-4, atol: 1e-6 });
      x.dispose();
      layer.dispose();
    });

    it('gradients w.r.t. input, kernel and bias pass checkGradients', async () => {
      const layer = nt.layers.dense({ units: 3, activation: 'tanh' });
      const x = t(uniform(5 * 7), [5, 7]);
      layer.apply(x).dispose();
      randomizeWeights(layer);
      expect(await gradientError(layer, x)).toBeLessThan(GRAD_TOL);
      x.dispose();
      layer.dispose();
    });
  });

  describe('conv2d', () => {
    it.each([
      { padding: 'valid', strides: [1, 1], kernel: [3, 3] },
      { padding: 'same', strides: [2, 1], kernel: [3, 2] },
      { padding: 'valid', strides: [2, 2], kernel: [2, 3] },
    ])('forward with bias matches float64 ($padding, strides $strides, kernel $kernel)', async ({ padding, strides, kernel }) => {
      const xs = [2, 7, 9, 3];
      const layer = nt.layers.conv2d({ filters: 5, kernelSize: kernel as [number, number], strides: strides as [number, number], padding: padding as 'same' | 'valid', activation: 'relu' });
      const xv = uniform(xs.reduce((a, b) => a * b), -1, 1);
      const x = t(xv, xs);
      layer.apply(x).dispose();
      const [w, b] = randomizeWeights(layer);
      const ref = convRef(xv, xs, w, [...layer.weights[0].shape], b, strides, padding);
      const { values, shape } = await output(layer, x);
      expect(shape).toEqual(ref.shape);
      expect(layer.computeOutputShape([null, 7, 9, 3])).toEqual([null, ...ref.shape.slice(1)]);
      expect(normRelativeError(values, Array.from(ref.y, ACTS.relu))).toBeLessThan(sumTol);
      x.dispose();
      layer.dispose();
    });

    it.each(['relu', 'sigmoid', 'tanh', 'linear'] as const)('forward with bias and %s is one kernel (fusedConv2d)', (activation) => {
      const layer = nt.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same', activation });
      const x = t(uniform(2 * 7 * 9 * 3), [2, 7, 9, 3]);
      layer.apply(x).dispose();
      nt.resetStats();
      const y = layer.apply(x);
      expect(nt.stats().dispatches).toBe(1);
      nt.dispose([x, y]);
      layer.dispose();
    });

    it('gradients w.r.t. input, kernel and bias pass checkGradients', async () => {
      const layer = nt.layers.conv2d({ filters: 3, kernelSize: 2, strides: 2, padding: 'same', activation: 'tanh' });
      const x = t(uniform(2 * 5 * 5 * 2), [2, 5, 5, 2]);
      layer.apply(x).dispose();
      randomizeWeights(layer);
      expect(await gradientError(layer, x)).toBeLessThan(GRAD_TOL);
      x.dispose();
      layer.dispose();
    });
  });

  describe.each(['max', 'avg'] as const)('%s pooling', (kind) => {
    const make = (args: nt.layers.Pooling2DArgs) => (kind === 'max' ? nt.layers.maxPooling2d(args) : nt.layers.averagePooling2d(args));
    it.each([
      { poolSize: [2, 2], strides: undefined, padding: 'valid' },
      { poolSize: [3, 3], strides: [2, 2], padding: 'same' },
      { poolSize: [2, 3], strides: [1, 2], padding: 'valid' },
    ])('forward matches float64 (pool $poolSize, strides $strides, $padding)', async ({ poolSize, strides, padding }) => {
      const xs = [2, 7, 7, 3];
      const layer = make({ poolSize: poolSize as [number, number], strides: strides as [number, number] | undefined, padding: padding as 'same' | 'valid' });
      const xv = uniform(xs.reduce((a, b) => a * b), -1, 1);
      const x = t(xv, xs);
      const ref = poolRef(xv, xs, poolSize, strides ?? poolSize, padding, kind);
      const { values, shape } = await output(layer, x);
      expect(shape).toEqual(ref.shape);
      expect(layer.computeOutputShape([null, 7, 7, 3])).toEqual([null, ...ref.shape.slice(1)]);
      expectAllClose(values, ref.y, { rtol, atol: 1e-6 });
      expect(layer.countParams()).toBe(0);
      x.dispose();
    });

    it('gradient w.r.t. the input passes checkGradients', async () => {
      // Distinct values spaced wider than the difference step, so no window's max changes hands.
      const n = 2 * 6 * 6 * 2;
      const order = Array.from(uniform(n), (v, i) => [v, i]).sort((a, b) => a[0] - b[0]);
      const values = new Float64Array(n);
      order.forEach(([, i], rank) => (values[i] = (rank - n / 2) * 0.01));
      const x = t(values, [2, 6, 6, 2]);
      const result = await nt.checkGradients((xi) => nt.sum(nt.square(make({ poolSize: 2 }).apply(xi))), [x]);
      expect(result.maxRelativeError).toBeLessThan(GRAD_TOL);
      x.dispose();
    });
  });

  describe('flatten, activation, dropout', () => {
    it('flatten keeps the values in row-major order', async () => {
      const xv = uniform(3 * 4 * 5 * 2);
      const x = t(xv, [3, 4, 5, 2]);
      const layer = nt.layers.flatten();
      const { values, shape } = await output(layer, x);
      expect(shape).toEqual([3, 40]);
      expect(layer.computeOutputShape([null, 4, 5, 2])).toEqual([null, 40]);
      expectAllClose(values, xv, { rtol: 0, atol: 0 });
      const grad = await nt.checkGradients((xi) => nt.sum(nt.square(layer.apply(xi))), [x]);
      expect(grad.maxRelativeError).toBeLessThan(GRAD_TOL);
      x.dispose();
    });

    it.each(['relu', 'sigmoid', 'tanh', 'elu', 'leakyRelu', 'softmax'])('activation layer %s matches float64 and its gradient', async (name) => {
      const xv = uniform(4 * 7, -3, 3);
      const x = t(xv, [4, 7]);
      const layer = nt.layers.activation({ activation: name as nt.layers.ActivationArgs['activation'] });
      const { values } = await output(layer, x);
      const ref = name === 'softmax' ? softmaxRows(xv, 7) : Array.from(xv, ACTS[name]);
      expectAllClose(values, ref, { rtol: 1e-4, atol: 1e-6 });
      // Away from relu's kink at 0, where central differences are meaningless.
      const safe = t(Float64Array.from(xv, (v) => (Math.abs(v) < 0.05 ? v + 0.1 : v)), [4, 7]);
      expect(await gradientError(layer, safe)).toBeLessThan(GRAD_TOL);
      x.dispose();
      safe.dispose();
    });

    it('dropout is the identity at inference and drops a fraction while training', async () => {
      const n = 4000;
      const xv = uniform(n, 1, 2);
      const x = t(xv, [40, 100]);
      const layer = nt.layers.dropout({ rate: 0.25, seed: 7 });
      expectAllClose((await output(layer, x)).values, xv, { rtol: 0, atol: 0 });
      const { values } = await output(layer, x, true);
      let zeros = 0;
      values.forEach((v, i) => {
        if (v === 0) zeros++;
        else expect(Math.abs(v - xv[i] / 0.75)).toBeLessThan(1e-5 * xv[i]);
      });
      expect(zeros / n).toBeGreaterThan(0.2);
      expect(zeros / n).toBeLessThan(0.3);
      x.dispose();
    });
  });

  describe('simpleRNN', () => {
    it.each([false, true])('forward matches float64 (returnSequences %s)', async (returnSequences) => {
      const [n, T, F, units] = [3, 5, 4, 6];
      const layer = nt.layers.simpleRNN({ units, returnSequences, seed: 3 });
      const xv = uniform(n * T * F, -1, 1);
      const x = t(xv, [n, T, F]);
      layer.apply(x).dispose();
      expect(layer.weights.map((v) => v.name)).toEqual([`${layer.name}/kernel`, `${layer.name}/recurrent_kernel`, `${layer.name}/bias`]);
      const [W, U, b] = randomizeWeights(layer);
      const all = rnnRef(xv, n, T, F, W, U, b, units);
      const ref = returnSequences ? all : Float64Array.from({ length: n * units }, (_, i) => all[(Math.floor(i / units) * T + T - 1) * units + (i % units)]);
      const { values, shape } = await output(layer, x);
      expect(shape).toEqual(returnSequences ? [n, T, units] : [n, units]);
      expect(normRelativeError(values, ref)).toBeLessThan(sumTol);
      x.dispose();
      layer.dispose();
    });

    it('the default recurrent kernel is orthogonal', async () => {
      const layer = nt.layers.simpleRNN({ units: 8, seed: 11 });
      layer.apply(nt.zeros([1, 2, 3])).dispose();
      const u = await layer.weights[1].data();
      for (let i = 0; i < 8; i++)
        for (let j = 0; j < 8; j++) {
          let dot = 0;
          for (let k = 0; k < 8; k++) dot += u[k * 8 + i] * u[k * 8 + j];
          expect(Math.abs(dot - (i === j ? 1 : 0))).toBeLessThan(1e-5);
        }
      layer.dispose();
    });

    it.each([false, true])('BPTT gradients pass checkGradients (returnSequences %s)', async (returnSequences) => {
      const layer = nt.layers.simpleRNN({ units: 3, returnSequences });
      const x = t(uniform(2 * 4 * 3), [2, 4, 3]);
      layer.apply(x).dispose();
      randomizeWeights(layer);
      expect(await gradientError(layer, x)).toBeLessThan(GRAD_TOL);
      x.dispose();
      layer.dispose();
    });
  });

  describe('batchNormalization', () => {
    const [n, h, c] = [6, 3, 4];
    const rows = n * h;
    const stats = (xv: Float64Array) => {
      const mean = new Float64Array(c);
      const variance = new Float64Array(c);
      for (let i = 0; i < rows; i++) for (let j = 0; j < c; j++) mean[j] += xv[i * c + j] / rows;
      for (let i = 0; i < rows; i++) for (let j = 0; j < c; j++) variance[j] += (xv[i * c + j] - mean[j]) ** 2 / rows;
      return { mean, variance };
    };

    it('training normalises with batch statistics and moves the moving averages', async () => {
      const layer = nt.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3 });
      const xv = uniform(rows * c, -2, 3);
      const x = t(xv, [n, h, c]);
      layer.apply(x).dispose();
      const [gamma, beta] = randomizeWeights(layer, 0.5, 1.5).slice(0, 2);
      const mm0 = new Float64Array(c).fill(0);
      const mv0 = new Float64Array(c).fill(1);
      const init = [t(gamma, [c]), t(beta, [c]), t(mm0, [c]), t(mv0, [c])];
      layer.setWeights(init);
      const { mean, variance } = stats(xv);
      const { values } = await output(layer, x, true);
      const ref = Float64Array.from(xv, (v, i) => ((v - mean[i % c]) / Math.sqrt(variance[i % c] + 1e-3)) * gamma[i % c] + beta[i % c]);
      expectAllClose(values, ref, { rtol: 1e-4, atol: 1e-5 });
      const [mm, mv] = await Promise.all(layer.weights.slice(2).map((v) => v.data()));
      expectAllClose(mm, Array.from(mean, (m) => 0.1 * m), { rtol: 1e-4, atol: 1e-6 });
      expectAllClose(mv, Array.from(variance, (v) => 0.9 + 0.1 * v), { rtol: 1e-4, atol: 1e-6 });
      expect(layer.trainableWeights.length).toBe(2);
      expect(layer.nonTrainableWeights.map((v) => v.name)).toEqual([`${layer.name}/moving_mean`, `${layer.name}/moving_variance`]);
      [x, ...init].forEach((v) => v.dispose());
      layer.dispose();
    });

    it('inference uses the moving averages', async () => {
      const layer = nt.layers.batchNormalization();
      const xv = uniform(rows * c, -2, 3);
      const x = t(xv, [n, h, c]);
      layer.apply(x).dispose();
      const [gamma, beta, mm, mvRaw] = randomizeWeights(layer, 0.2, 1.2);
      const { values } = await output(layer, x);
      const ref = Float64Array.from(xv, (v, i) => ((v - mm[i % c]) / Math.sqrt(mvRaw[i % c] + 1e-3)) * gamma[i % c] + beta[i % c]);
      expectAllClose(values, ref, { rtol: 1e-4, atol: 1e-5 });
      x.dispose();
      layer.dispose();
    });

    it.each([true, false])('gradients pass checkGradients (training %s)', async (training) => {
      const layer = nt.layers.batchNormalization();
      const x = t(uniform(rows * c, -2, 2), [n, h, c]);
      layer.apply(x).dispose();
      randomizeWeights(layer, 0.5, 1.5);
      expect(await gradientError(layer, x, training)).toBeLessThan(GRAD_TOL);
      x.dispose();
      layer.dispose();
    });
  });

  describe('building, shapes and errors', () => {
    it('builds lazily, counts parameters and names weights as TF.js', () => {
      const layer = nt.layers.dense({ units: 3, name: 'probe' });
      expect(layer.built).toBe(false);
      expect(layer.countParams()).toBe(0);
      nt.tidy(() => layer.apply(nt.zeros([2, 5])));
      expect(layer.built).toBe(true);
      expect(layer.countParams()).toBe(5 * 3 + 3);
      expect(layer.weights.map((v) => v.name)).toEqual(['probe/kernel', 'probe/bias']);
      layer.dispose();
    });

    it('rejects inputs that do not match the built or declared shape', () => {
      const layer = nt.layers.dense({ units: 3, inputShape: [4] });
      expect(() => nt.tidy(() => layer.apply(nt.zeros([2, 5])))).toThrow(/declares inputShape \[null,4\] but got input \[2,5\]/);
      nt.tidy(() => layer.apply(nt.zeros([2, 4])));
      expect(() => nt.tidy(() => layer.apply(nt.zeros([2, 6])))).toThrow(nt.ShapeError);
      expect(() => nt.tidy(() => nt.layers.conv2d({ filters: 2, kernelSize: 3 }).apply(nt.zeros([2, 5])))).toThrow(/rank 4/);
      layer.dispose();
    });

    it('rejects bad options with messages naming the layer', () => {
      expect(() => nt.layers.dense({ units: 0 })).toThrow(/units should be a positive integer/);
      expect(() => nt.layers.dense({ units: 2, activation: 'swish' as never })).toThrow(/unknown activation 'swish'/);
      expect(() => nt.layers.conv2d({ filters: 2, kernelSize: [3] as never })).toThrow(/kernelSize/);
      expect(() => nt.layers.dropout({ rate: 1 })).toThrow(/rate/);
      expect(() => nt.layers.maxPooling2d({ padding: 'full' as never })).toThrow(/padding/);
    });

    it('setWeights checks every shape before changing anything', async () => {
      const layer = nt.layers.dense({ units: 2 });
      nt.tidy(() => layer.apply(nt.zeros([1, 3])));
      const before = await layer.weights[0].data();
      const good = nt.ones([3, 2]);
      const bad = nt.ones([3]);
      expect(() => layer.setWeights([good, bad])).toThrow(/bias' is \[2\], got \[3\]/);
      expect(await layer.weights[0].data()).toEqual(before);
      [good, bad].forEach((v) => v.dispose());
      layer.dispose();
    });

    it('getConfig is the Keras form TF.js writes', () => {
      const conv = nt.layers.conv2d({ filters: 8, kernelSize: 5, strides: 2, activation: 'relu', inputShape: [28, 28, 1], name: 'c' });
      const { class_name, config } = conv.getConfig();
      expect(class_name).toBe('Conv2D');
      expect(config).toMatchObject({
        filters: 8,
        kernel_size: [5, 5],
        strides: [2, 2],
        padding: 'valid',
        data_format: 'channels_last',
        dilation_rate: [1, 1],
        activation: 'relu',
        use_bias: true,
        kernel_initializer: { class_name: 'GlorotUniform' },
        bias_initializer: { class_name: 'Zeros', config: {} },
        name: 'c',
        trainable: true,
        batch_input_shape: [null, 28, 28, 1],
        dtype: 'float32',
      });
      expect(nt.layers.simpleRNN({ units: 4, returnSequences: true }).getConfig().config).toMatchObject({ return_sequences: true, activation: 'tanh' });
      expect(nt.layers.maxPooling2d({ poolSize: 3 }).getConfig().config).toMatchObject({ pool_size: [3, 3], strides: [3, 3] });
    });
  });
});
