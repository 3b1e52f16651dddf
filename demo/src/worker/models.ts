// The three models the page offers, built with Neurite's layers: the TF.js tutorial CNN,
// a one-hidden-layer MLP, and a SimpleRNN that reads a digit row by row (28 steps of 28).

import { layers, sequential, type Layer, type Sequential } from '../../../src/index.js';
import type { ModelKind } from '../protocol.js';

/** The input shape of one example for each model (without the batch dim). */
export function inputShape(kind: ModelKind): number[] {
  return kind === 'rnn' ? [28, 28] : [28, 28, 1];
}

/** Builds an untrained model of `kind`. */
export function buildModel(kind: ModelKind): Sequential {
  return sequential({ layers: LAYERS[kind]() });
}

const LAYERS: Record<ModelKind, () => Layer[]> = {
  // The TF.js "handwritten digit recognition" tutorial's network.
  cnn: () => [
    layers.conv2d({ inputShape: [28, 28, 1], kernelSize: 5, filters: 8, activation: 'relu', kernelInitializer: 'heNormal' }),
    layers.maxPooling2d({ poolSize: 2, strides: 2 }),
    layers.conv2d({ kernelSize: 5, filters: 16, activation: 'relu', kernelInitializer: 'heNormal' }),
    layers.maxPooling2d({ poolSize: 2, strides: 2 }),
    layers.flatten(),
    layers.dense({ units: 10, activation: 'softmax' }),
  ],
  mlp: () => [
    layers.flatten({ inputShape: [28, 28, 1] }),
    layers.dense({ units: 128, activation: 'relu', kernelInitializer: 'heNormal' }),
    layers.dense({ units: 10, activation: 'softmax' }),
  ],
  rnn: () => [layers.simpleRNN({ inputShape: [28, 28], units: 64 }), layers.dense({ units: 10, activation: 'softmax' })],
};

/** One line about a model, e.g. "Tutorial CNN · 6 layers · 10,346 parameters". */
export function describeModel(kind: ModelKind | 'loaded', model: Sequential): string {
  const name = { cnn: 'Tutorial CNN', mlp: 'MLP', rnn: 'SimpleRNN', loaded: 'Loaded model' }[kind];
  const n = model.layers.length;
  return `${name} · ${n} layer${n === 1 ? '' : 's'} · ${model.countParams().toLocaleString('en-US')} parameters`;
}

/** Guesses which of the page's models a loaded one is, from its first layer. */
export function kindOf(model: Sequential): ModelKind {
  const first = model.layers[0]?.className;
  return first === 'SimpleRNN' ? 'rnn' : first === 'Flatten' ? 'mlp' : 'cnn';
}
