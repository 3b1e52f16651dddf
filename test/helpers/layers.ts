// What the layer tests share: tensors from float64 arrays, random weights, a layer's output read
// back, and checkGradients of a layer w.r.t. its input and every weight.
import { expect } from 'vitest';
import * as nt from '../../src/index.js';
import { uniform } from './random.js';

/** The relative error checkGradients may report for a layer. */
export const GRAD_TOL = 2e-2;

export const f32 = (a: Float64Array) => Float32Array.from(a);
/** A float32 tensor of float64 values. */
export const t = (a: Float64Array, shape: number[]) => nt.tensor(f32(a), shape);

/** Sets the layer's weights to fresh random values and returns them (float64, as stored in f32). */
export function randomizeWeights(layer: nt.Layer, lo = -0.5, hi = 0.5): Float64Array[] {
  const values = layer.weights.map((v) => uniform(v.size, lo, hi));
  const tensors = values.map((a, i) => t(a, [...layer.weights[i].shape]));
  layer.setWeights(tensors);
  tensors.forEach((x) => x.dispose());
  return values;
}

/** The layer's output on x, read back. */
export async function output(layer: nt.Layer, x: nt.Tensor, training = false): Promise<{ values: Float32Array; shape: number[] }> {
  const y = nt.tidy(() => layer.apply(x, { training }));
  const values = (await y.data()) as Float32Array;
  const shape = [...y.shape];
  // Layers that change nothing (dropout at inference, flatten of a matrix) return x itself.
  if (y !== x) y.dispose();
  return { values, shape };
}

/**
 * checkGradients of Σ R·layer(x) w.r.t. x and every weight: f receives the weights as inputs
 * and sets them, so the central differences perturb the real layer.
 */
export async function gradientError(layer: nt.Layer, x: nt.Tensor, training = false): Promise<number> {
  const saved = layer.getWeights();
  const outShape = nt.tidy(() => [...layer.apply(x, { training }).shape]);
  const r = t(uniform(outShape.reduce((a, b) => a * b, 1), -1, 1), outShape);
  const f = (xi: nt.Tensor, ...ws: nt.Tensor[]) => {
    layer.setWeights(ws);
    return nt.sum(nt.mul(layer.apply(xi, { training }), r));
  };
  const result = await nt.checkGradients(f, [x, ...layer.weights], { maxChecksPerInput: 10 });
  layer.setWeights(saved);
  saved.forEach((s) => s.dispose());
  r.dispose();
  expect(Number.isNaN(result.maxRelativeError)).toBe(false);
  return result.maxRelativeError;
}

