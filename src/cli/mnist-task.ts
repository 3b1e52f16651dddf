// What training a zoo model on MNIST needs besides the network: the loss and metrics of its task,
// the data sources (labels as targets, or the images themselves for the autoencoder), and the
// reconstruction baseline that gives an autoencoder's MSE a meaning.
import { adam, data, type DataSource, type Optimizer, type Sequential } from '../index.js';
import type { MnistModelSpec } from '../examples/mnist-models.js';

const PIXELS = 28 * 28;

/** Compiles `model` for its task: Adam at the model's learning rate (1e-3 unless the zoo says otherwise; Keras's defaults: β1 0.9, β2 0.999, ε 1e-7), and
 * sparse categorical cross-entropy with accuracy, or MSE for a reconstruction. Returns the
 * optimizer, which the caller disposes with the model. */
export function compileFor(model: Sequential, spec: MnistModelSpec): Optimizer {
  const optimizer = adam({ learningRate: spec.learningRate ?? 1e-3 });
  if (spec.task === 'reconstruct') model.compile({ optimizer, loss: 'meanSquaredError' });
  else model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return optimizer;
}

/**
 * A data source over the first `count` images (uint8, 0..255, scaled to [0, 1]) in the shape the
 * model takes: with their labels as targets, or with the images as targets for a reconstruction.
 */
export function mnistSource(spec: MnistModelSpec, images: Uint8Array, labels: Uint8Array, count: number): DataSource {
  const shape = [count, ...spec.inputShape];
  const x = images.subarray(0, count * PIXELS);
  if (spec.task === 'reconstruct') return data.arrays(x, shape, undefined, { normalize: 1 / 255, targets: 'inputs' });
  return data.arrays(x, shape, labels.subarray(0, count), { normalize: 1 / 255 });
}

/** The mean of `count` images, pixel by pixel, in [0, 1]. */
export function meanImage(images: Uint8Array, count: number): Float64Array {
  const mean = new Float64Array(PIXELS);
  for (let i = 0; i < count; i++) for (let p = 0; p < PIXELS; p++) mean[p] += images[i * PIXELS + p];
  for (let p = 0; p < PIXELS; p++) mean[p] /= 255 * count;
  return mean;
}

/** The MSE (over all pixels, in [0, 1] units) of predicting each of `count` images as `guess`. */
export function mseAgainst(guess: Float64Array, images: Uint8Array, count: number): number {
  let sum = 0;
  for (let i = 0; i < count; i++) {
    for (let p = 0; p < PIXELS; p++) {
      const d = images[i * PIXELS + p] / 255 - guess[p];
      sum += d * d;
    }
  }
  return sum / (count * PIXELS);
}
