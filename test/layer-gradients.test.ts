// Layer gradients checked independently of the library: dense, conv2d, simpleRNN (through time)
// and batchNormalization, forward and backward, against float64 references written here (plain
// loops), differentiated by central differences at every element, on fresh seeds and odd sizes.
// Tolerance: |a − e| ≤ rtol·(|e| + max(1, max|e|)), rtol 1e-5 on the CPU and 1e-4 on WebGPU.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { BACKENDS, RTOL, useBackend } from './helpers/backends.js';
import { expectCloseAtScale } from './helpers/close.js';
import { numericGradient, sizeOf, weighted } from './helpers/numeric.js';
import { conv2dRef, type Window } from './helpers/reference.js';
import { freshRng, uniform } from './helpers/random.js';

/** A float64 layer: the output from the input and every weight (in `layer.weights` order). */
type LayerRef = (x: Float64Array, weights: Float64Array[]) => Float64Array;

/** An odd size in [lo, hi] drawn from this run's seed. */
function odd(lo: number, hi: number): number {
  const n = lo + Math.floor(freshRng()() * (hi - lo + 1));
  return n % 2 === 1 ? n : n + 1;
}

const t32 = (v: Float64Array, shape: readonly number[]) => nt.tensor(Float32Array.from(v), shape);

/** Sets every weight to fresh values (positive ones for variances) and returns them. */
function randomizeWeights(layer: nt.Layer): Float64Array[] {
  const values = layer.weights.map((w) => ((w.name ?? '').includes('variance') ? uniform(w.size, 0.5, 2) : uniform(w.size, -0.7, 0.7)));
  const tensors = values.map((v, i) => t32(v, layer.weights[i].shape));
  layer.setWeights(tensors);
  nt.dispose(tensors);
  return values;
}

/**
 * Builds `layer` on x, randomizes its weights, and checks its output and the gradients of
 * Σ r·layer(x) w.r.t. x and every trainable weight against `ref`.
 */
async function checkLayer(layer: nt.Layer, xShape: number[], ref: LayerRef, rtol: number, training = false): Promise<void> {
  const xv = uniform(sizeOf(xShape), -1, 1);
  const x = nt.variable(t32(xv, xShape));
  nt.tidy(() => layer.apply(x, { training }));
  const weights = randomizeWeights(layer);
  const expected = ref(xv, weights);
  const r = uniform(expected.length, -1, 1);
  const trainable = layer.weights.map((w, i) => [w, i] as const).filter(([w]) => w.trainable);
  const y = nt.tidy(() => layer.apply(x, { training }));
  const rt = t32(r, y.shape);
  const { value, grads } = nt.variableGrads(() => nt.sum(nt.mul(layer.apply(x, { training }), rt)), [x, ...trainable.map(([w]) => w)]);
  try {
    expectCloseAtScale(await y.data(), expected, rtol, `${layer.className} forward`);
    const loss = (xs: Float64Array, ws: Float64Array[]) => weighted(ref(xs, ws), r);
    expectCloseAtScale(await grads[0].data(), numericGradient((v) => loss(v, weights), xv), rtol, `${layer.className} ∂/∂x`);
    for (const [k, [w, i]] of trainable.entries()) {
      const numeric = numericGradient((v) => loss(xv, weights.map((u, j) => (j === i ? v : u))), weights[i]);
      expectCloseAtScale(await grads[k + 1].data(), numeric, rtol, `${layer.className} ∂/∂${w.name}`);
    }
    expect(grads.length).toBe(trainable.length + 1);
  } finally {
    nt.dispose([x, y, rt, value, ...grads]);
    layer.dispose();
  }
}

/** [rows, k]·W[k, n] + b, then act, row-major. */
function denseRef(rows: number, k: number, n: number, act: (v: number) => number): LayerRef {
  return (x, [w, b]) => {
    const out = new Float64Array(rows * n);
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < n; j++) {
        let s = b[j];
        for (let q = 0; q < k; q++) s += x[i * k + q] * w[q * n + j];
        out[i * n + j] = act(s);
      }
    return out;
  };
}

/** h_t = tanh(x_t·W + h_{t−1}·U + b) from h_0 = 0; every h_t or the last. */
function rnnRef(batch: number, steps: number, features: number, units: number, sequences: boolean): LayerRef {
  return (x, [w, u, b]) => {
    const out = new Float64Array(batch * (sequences ? steps : 1) * units);
    for (let n = 0; n < batch; n++) {
      let h = new Float64Array(units);
      for (let t = 0; t < steps; t++) {
        const next = new Float64Array(units);
        for (let j = 0; j < units; j++) {
          let s = b[j];
          for (let f = 0; f < features; f++) s += x[(n * steps + t) * features + f] * w[f * units + j];
          for (let q = 0; q < units; q++) s += h[q] * u[q * units + j];
          next[j] = Math.tanh(s);
        }
        h = next;
        if (sequences) out.set(h, (n * steps + t) * units);
      }
      if (!sequences) out.set(h, n * units);
    }
    return out;
  };
}

/**
 * BatchNormalization over the last axis: training normalises with the batch's mean and biased
 * variance, inference with the moving ones; then gamma·x̂ + beta.
 */
function batchNormRef(channels: number, epsilon: number, training: boolean): LayerRef {
  return (x, [gamma, beta, movingMean, movingVariance]) => {
    const rows = x.length / channels;
    const out = new Float64Array(x.length);
    for (let c = 0; c < channels; c++) {
      let m = movingMean[c];
      let v = movingVariance[c];
      if (training) {
        m = 0;
        for (let i = 0; i < rows; i++) m += x[i * channels + c] / rows;
        v = 0;
        for (let i = 0; i < rows; i++) v += (x[i * channels + c] - m) ** 2 / rows;
      }
      for (let i = 0; i < rows; i++) out[i * channels + c] = (gamma[c] * (x[i * channels + c] - m)) / Math.sqrt(v + epsilon) + beta[c];
    }
    return out;
  };
}

describe.each(BACKENDS)('layer gradients against float64 references on %s', (backend) => {
  const rtol = RTOL[backend];
  beforeAll(() => useBackend(backend));

  it.each(['tanh', 'linear', 'sigmoid'] as const)('dense with %s: output and ∂ w.r.t. x, kernel and bias', async (activation) => {
    const [rows, k, n] = [odd(3, 7), odd(5, 11), odd(3, 7)];
    const act = { tanh: Math.tanh, linear: (v: number) => v, sigmoid: (v: number) => 1 / (1 + Math.exp(-v)) }[activation];
    await checkLayer(nt.layers.dense({ units: n, activation }), [rows, k], denseRef(rows, k, n, act), rtol);
  });

  it.each([
    { strides: 1, padding: 'same', dilationRate: 1 },
    { strides: 2, padding: 'same', dilationRate: 1 },
    { strides: 1, padding: 'valid', dilationRate: 2 },
    { strides: [2, 1], padding: 'valid', dilationRate: 1 },
  ] as const)('conv2d with %j and tanh: output and ∂ w.r.t. x, kernel and bias', async ({ strides, padding, dilationRate }) => {
    const [batch, H, W, C, O] = [2, odd(5, 9), odd(5, 9), odd(1, 3), odd(1, 3)];
    const s: [number, number] = typeof strides === 'number' ? [strides, strides] : [strides[0], strides[1]];
    const window: Window = { k: [3, 3], s, d: [dilationRate, dilationRate], padding };
    const layer = nt.layers.conv2d({ filters: O, kernelSize: 3, strides: s, padding, dilationRate, activation: 'tanh' });
    const ref: LayerRef = (x, [f, b]) => conv2dRef(x, [batch, H, W, C], f, [3, 3, C, O], window).map((v, i) => Math.tanh(v + b[i % O]));
    await checkLayer(layer, [batch, H, W, C], ref, rtol);
  });

  it.each([true, false])('simpleRNN (returnSequences %s): output and ∂ through time w.r.t. x, kernel, recurrent kernel and bias', async (sequences) => {
    const [batch, steps, features, units] = [odd(1, 3), odd(3, 7), odd(1, 5), odd(3, 5)];
    const layer = nt.layers.simpleRNN({ units, returnSequences: sequences });
    await checkLayer(layer, [batch, steps, features], rnnRef(batch, steps, features, units, sequences), rtol);
  });

  it.each([true, false])('batchNormalization (training %s): output and ∂ w.r.t. x, gamma and beta', async (training) => {
    const [rows, inner, channels] = [odd(3, 5), odd(1, 3), odd(3, 5)];
    const layer = nt.layers.batchNormalization({ epsilon: 1e-3 });
    await checkLayer(layer, [rows, inner, channels], batchNormRef(channels, 1e-3, training), rtol, training);
  });
});
