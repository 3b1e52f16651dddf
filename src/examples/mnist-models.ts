// The MNIST models that `npm start` trains and the demo page offers, defined once so both run the
// same networks. Each builder is seeded, so a run can be repeated weight for weight.
import { layers, sequential, type Layer, type Sequential } from '../index.js';

/** The models by name. */
export type MnistModelKind = 'keras-cnn' | 'tfjs-cnn' | 'mlp' | 'rnn' | 'lstm' | 'autoencoder';

/** What a model learns: digit classes (softmax over 10) or the image itself (reconstruction). */
export type MnistTask = 'classify' | 'reconstruct';

/** One model of the zoo. */
export interface MnistModelSpec {
  readonly kind: MnistModelKind;
  /** A name that says which network it is, for logs and the page. */
  readonly title: string;
  /** One example's shape, without the batch dimension. */
  readonly inputShape: readonly number[];
  readonly task: MnistTask;
  /** The batch size it trains with by default, where it differs from `npm start`'s 64. */
  readonly batchSize?: number;
  /** Adam's learning rate by default, where it differs from 1e-3. */
  readonly learningRate?: number;
  readonly build: (seed: number) => Sequential;
}

const IMAGE = [28, 28, 1] as const;
/** A digit read row by row: 28 time steps of 28 pixels. */
const ROWS = [28, 28] as const;

function seeded(seed: number, make: (next: () => number) => Layer[]): Sequential {
  let s = seed;
  return sequential({ layers: make(() => s++) });
}

/** Every model, by kind. */
export const MNIST_MODELS: Readonly<Record<MnistModelKind, MnistModelSpec>> = {
  // The Keras/TensorFlow "Convolutional Neural Network" tutorial's network: 93,322 parameters.
  'keras-cnn': {
    kind: 'keras-cnn',
    title: 'Keras tutorial CNN (32/64/64 filters of 3×3)',
    inputShape: IMAGE,
    task: 'classify',
    build: (seed) =>
      seeded(seed, (next) => [
        layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [...IMAGE], seed: next() }),
        layers.maxPooling2d({ poolSize: 2 }),
        layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', seed: next() }),
        layers.maxPooling2d({ poolSize: 2 }),
        layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', seed: next() }),
        layers.flatten(),
        layers.dense({ units: 64, activation: 'relu', seed: next() }),
        layers.dense({ units: 10, activation: 'softmax', seed: next() }),
      ]),
  },
  // The TF.js "Handwritten digit recognition with CNNs" tutorial's network: 5,994 parameters,
  // small enough to train at a useful pace on a software (CPU-emulated) WebGPU adapter.
  'tfjs-cnn': {
    kind: 'tfjs-cnn',
    title: 'TF.js tutorial CNN (8/16 filters of 5×5)',
    inputShape: IMAGE,
    task: 'classify',
    build: (seed) =>
      seeded(seed, (next) => [
        layers.conv2d({ inputShape: [...IMAGE], kernelSize: 5, filters: 8, activation: 'relu', kernelInitializer: 'heNormal', seed: next() }),
        layers.maxPooling2d({ poolSize: 2, strides: 2 }),
        layers.conv2d({ kernelSize: 5, filters: 16, activation: 'relu', kernelInitializer: 'heNormal', seed: next() }),
        layers.maxPooling2d({ poolSize: 2, strides: 2 }),
        layers.flatten(),
        layers.dense({ units: 10, activation: 'softmax', seed: next() }),
      ]),
  },
  mlp: {
    kind: 'mlp',
    title: 'MLP (784-128-10)',
    inputShape: IMAGE,
    task: 'classify',
    build: (seed) =>
      seeded(seed, (next) => [
        layers.flatten({ inputShape: [...IMAGE] }),
        layers.dense({ units: 128, activation: 'relu', kernelInitializer: 'heNormal', seed: next() }),
        layers.dense({ units: 10, activation: 'softmax', seed: next() }),
      ]),
  },
  rnn: {
    kind: 'rnn',
    title: 'SimpleRNN (64 units over 28 rows)',
    inputShape: ROWS,
    task: 'classify',
    build: (seed) =>
      seeded(seed, (next) => [
        layers.simpleRNN({ units: 64, inputShape: [...ROWS], seed: next() }),
        layers.dense({ units: 10, activation: 'softmax', seed: next() }),
      ]),
  },
  // Keras's LSTM: sigmoid gates (Keras's default; Neurite's, like TF.js's, is hardSigmoid), trained
  // with batches of 16 at Adam 2e-3, which passes 97 % in one epoch. One epoch on the CPU backend,
  // seed 1 (2026-12-07): Adam 1e-3 with hardSigmoid gates and batch 64, 95.30 %; sigmoid and batch
  // 32, 95.86 %; 16, 96.40 %; 8, 96.76 %; 4, 97.80 % (10 min); Adam 3e-3 and batch 32, 96.58 %;
  // Adam 2e-3 and batch 16, 97.23 % (163 s on 2 threads).
  lstm: {
    kind: 'lstm',
    title: 'LSTM (128 units over 28 rows)',
    inputShape: ROWS,
    task: 'classify',
    batchSize: 16,
    learningRate: 2e-3,
    build: (seed) =>
      seeded(seed, (next) => [
        layers.lstm({ units: 128, recurrentActivation: 'sigmoid', inputShape: [...ROWS], seed: next() }),
        layers.dense({ units: 10, activation: 'softmax', seed: next() }),
      ]),
  },
  // A convolutional autoencoder: 28×28 → 7×7×8 code → 28×28, trained with MSE on the pixels.
  autoencoder: {
    kind: 'autoencoder',
    title: 'Convolutional autoencoder (28×28 → 7×7×8 → 28×28)',
    inputShape: IMAGE,
    task: 'reconstruct',
    build: (seed) =>
      seeded(seed, (next) => [
        layers.conv2d({ inputShape: [...IMAGE], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', seed: next() }),
        layers.maxPooling2d({ poolSize: 2 }),
        layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', seed: next() }),
        layers.maxPooling2d({ poolSize: 2 }),
        layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', seed: next() }),
        layers.upSampling2d({ size: 2 }),
        layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', seed: next() }),
        layers.upSampling2d({ size: 2 }),
        layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid', seed: next() }),
      ]),
  },
};
